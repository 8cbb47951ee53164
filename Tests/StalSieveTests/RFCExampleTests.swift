import Foundation
import StalSieve
import Testing

/// Example scripts transcribed from the Sieve RFCs (one file per RFC or group, in
/// Tests/StalSieveTests/RFCExamples): RFC 5228 §9 and the command examples, 5229, 5230,
/// 5231, 5232, 5233, 5173, 5183, 5260, 5293, 5429 (reject, ereject), 5435, 5463, 5490,
/// 5703, 6609, 7352, 3894, 3685/5235, 8579/8580/9042, 6134, 6009, 6558 and 6131; RFC 6785
/// and the regex draft are scripts written from their descriptions (their text is not
/// stored here).
@Suite("RFC example scripts")
struct RFCExampleTests {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("RFCExamples")
    }

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".sieve") }.sorted()
    }

    @Test("every transcribed RFC example compiles", arguments: files)
    func compiles(_ name: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        do {
            _ = try SieveCompiler.compile(text)
        } catch {
            Issue.record("\(name): \(error.description)")
        }
    }

    @Test("the examples directory is present")
    func present() {
        #expect(Self.files.count >= 28)
    }
}

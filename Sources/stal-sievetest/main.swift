import Foundation
import StalCore
import StalSieveTestSuite

/// `stal-sievetest FILE.svtest|DIR...`: one line per test block, then `N passed, N failed`.
/// `stal-sievetest --script SCRIPT [--message FILE] [--envelope-from A] [--envelope-to B]`:
/// the diagnostics or the actions of one script.
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
if let script = option("--script") {
    let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
    let (lines, ok) = SieveDebugRun.describe(scriptPath: script, messagePath: option("--message"),
                                             envelopeFrom: option("--envelope-from"), envelopeTo: option("--envelope-to"), now: now)
    lines.forEach { print($0) }
    exit(ok ? 0 : 1)
}
var paths: [String] = []
for arg in arguments {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: arg, isDirectory: &isDirectory), isDirectory.boolValue {
        paths += SieveTestSuiteRunner.testFiles(in: arg)
    } else {
        paths.append(arg)
    }
}
if paths.isEmpty {
    FileHandle.standardError.write(Data("usage: stal-sievetest FILE.svtest|DIRECTORY... | --script SCRIPT [--message FILE]\n".utf8))
    exit(2)
}
let runner = SieveTestSuiteRunner()
var passed = 0, failed = 0, notApplicable = 0
for path in paths {
    let report = runner.run(file: path)
    for block in report.blocks {
        switch block.status {
        case .passed: passed += 1
        case .failed: failed += 1
        case .notApplicable: notApplicable += 1
        }
        let reason = block.reason.map { " (\($0))" } ?? ""
        print("\(block.status.rawValue): \(report.path): \(block.name)\(reason)")
    }
}
print("\(passed) passed, \(failed) failed" + (notApplicable > 0 ? ", \(notApplicable) not applicable" : ""))
exit(failed == 0 ? 0 : 1)

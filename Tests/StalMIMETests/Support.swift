import Foundation
@testable import StalMIME

func crlf(_ s: String) -> [UInt8] {
    Array(s.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// The repository's `../shared/testdata`, found from this file's path.
func sharedTestData(_ relative: String) -> URL {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
    }
    return url.deletingLastPathComponent().appendingPathComponent("shared/testdata").appendingPathComponent(relative)
}

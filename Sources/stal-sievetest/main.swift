import Foundation
import StalSieveTestSuite

/// `stal-sievetest FILE.svtest...` (or directories): one line per test block, then a total.
var paths: [String] = []
for arg in CommandLine.arguments.dropFirst() {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: arg, isDirectory: &isDirectory), isDirectory.boolValue {
        paths += SieveTestSuiteRunner.testFiles(in: arg)
    } else {
        paths.append(arg)
    }
}
if paths.isEmpty {
    FileHandle.standardError.write(Data("usage: stal-sievetest FILE.svtest|DIRECTORY...\n".utf8))
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

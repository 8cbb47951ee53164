import Foundation
import StalMIME

// Prints MessageInspection's JSON for a message file: the same output as
// `stald debug message FILE`, usable before stald exists and in bug reports.
let args = CommandLine.arguments
guard args.count == 2 else {
    FileHandle.standardError.write(Data("usage: stal-mime-inspect FILE\n".utf8))
    exit(2)
}
guard let data = FileManager.default.contents(atPath: args[1]) else {
    FileHandle.standardError.write(Data("stal-mime-inspect: cannot read \(args[1])\n".utf8))
    exit(1)
}
print(MessageInspection.json(for: [UInt8](data)))

import StalMIME

// One fuzz input through every view StalMIME offers. Built by tools/fuzz/run-mime with
// -sanitize=fuzzer (STAL_FUZZ defined, libFuzzer supplies main); a plain build is a
// replay driver that runs the files given as arguments, e.g. saved crash inputs.
func exercise(_ bytes: [UInt8]) {
    let m = MIMEMessage.parse(bytes, limits: MIMELimits(nestingDepthMax: 32, partsMax: 500))
    _ = m.imapEnvelope()
    _ = m.imapBodyStructure(extended: true)
    _ = m.imapBodyStructure(extended: false)
    _ = m.jmapEmail(maxBodyValueBytes: 64)
    _ = ThreadKeys(message: m)
    _ = MessageInspection.value(for: m).encoded()
    for i in m.parts.indices {
        let path = m.sectionPath(of: i)
        _ = m.section(path: path, .mime)
        _ = m.section(path: path, .header)
        _ = m.section(path: path, .text)
        _ = m.section(path: path, .headerFields(["subject", "from"]))
        _ = m.binarySection(path: path)
        if m.parts[i].contentType.isText { _ = HTMLText.text(m.decodedText(of: i).text) }
    }
}

#if STAL_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

// SwiftPM links every executable with `main` aliased to `<module>_main`, so libFuzzer's
// own main is never used; this entry point hands control to libFuzzer's driver instead.
@_cdecl("fuzz_mime_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzMIME(data, size) }
}
#else
import Foundation

@main
struct ReplayFuzzInputs {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("fuzz-mime: cannot read \(path)\n".utf8))
                exit(1)
            }
            exercise([UInt8](data))
            print("ok \(path)")
        }
    }
}
#endif

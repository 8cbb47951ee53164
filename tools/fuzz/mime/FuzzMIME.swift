import StalFuzzSupport
import StalMIME

// One fuzz input through every view StalMIME offers. Built by tools/fuzz/run-mime with
// -sanitize=fuzzer (STAL_FUZZ defined, libFuzzer supplies main); a plain build is a
// replay driver that runs the files given as arguments, e.g. saved crash inputs.
func exercise(_ bytes: [UInt8]) {
    let m = MIMEMessage.parse(bytes, limits: MIMELimits(nestingDepthMax: 32, partsMax: 500))
    _ = m.imapEnvelope()
    _ = m.imapBodyStructure(extended: true)
    _ = m.imapBodyStructure(extended: false)
    _ = m.imapEnvelopeBytes(utf8: true)
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
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("fuzz_mime_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzMIME(data, size) }
}
#else
@main
struct ReplayFuzzInputs {
    static func main() {
        FuzzDriver.replayFuzzInputs(tool: "fuzz-mime", exercise)
    }
}
#endif

import Foundation

/// The scaffold every fuzz target shares. Built with `-sanitize=fuzzer -DSTAL_FUZZ` (see
/// tools/fuzz/run-*), a target hands control to libFuzzer's driver through `runLibFuzzer`;
/// a plain build replays the input files named on its command line with `replayFuzzInputs`.
public enum FuzzDriver {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    #if STAL_FUZZ
    /// SwiftPM links every executable with `main` aliased to `<module>_main`, so libFuzzer's
    /// own main is never used; each target's `<module>_main` calls this instead.
    public static func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                    _ callback: Callback) -> CInt {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector, callback)
    }
    #endif

    /// Runs `exercise` on every file named on the command line, e.g. saved crash inputs.
    public static func replayFuzzInputs(tool: String, _ exercise: ([UInt8]) -> Void) {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("\(tool): cannot read \(path)\n".utf8))
                exit(1)
            }
            exercise([UInt8](data))
            print("ok \(path)")
        }
    }
}

#if STAL_FUZZ
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzDriver.Callback) -> CInt
#endif

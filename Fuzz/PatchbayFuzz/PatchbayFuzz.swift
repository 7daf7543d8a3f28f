import Foundation
import Harness
import Logging
import Routing

// The fuzz target (`make fuzz`) over the whole per-message path (Host's MessagePath) on the example site, or with
// PATCHBAY_FUZZ_TARGET=bencode (`make fuzz-bencode`) over the bencode decoder of rtpengine's answers.
//
// Built with `-D FUZZING -sanitize=fuzzer,address`, main hands over to libFuzzer's driver. Built normally it is
// a runner: `PatchbayFuzz FILE|DIR...` puts each input through
// the same path (how a crash the fuzzer found is replayed without the fuzzer).

/// The example site, loaded once with the plugins built next to this executable.
let fuzzSite: Site = {
    // libosip2 logs every refusal as a warning; at fuzzing speed that is all the output would be.
    LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
    let config = ProcessInfo.processInfo.environment["PATCHBAY_FUZZ_SITE"] ?? "Examples/berlin/patchbay.yaml"
    let diagnostics = Diagnostics()
    guard let site = Site.load(configurationFile: config, diagnostics: diagnostics) else {
        FileHandle.standardError.write(
            "cannot load \(config):\n\(diagnostics.errors.map(\.description).joined(separator: "\n"))\n".data(
                using: .utf8)!)
        exit(2)
    }
    return site
}()

let fuzzBencode = ProcessInfo.processInfo.environment["PATCHBAY_FUZZ_TARGET"] == "bencode"
let fuzzPath = fuzzBencode ? nil : MessagePath(site: fuzzSite)

/// One input through the selected target.
func fuzzInput(_ bytes: [UInt8]) -> Int {
    if let fuzzPath { return fuzzPath.run(bytes) }
    return BencodeFuzz.run(bytes)
}

#if FUZZING
    import CFuzzerDriver

    /// Also defined by name: libFuzzer's own main (which the linker may pull in beside ours) calls it directly.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let data else { return 0 }
        _ = fuzzInput(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    @main
    struct PatchbayFuzzer {
        static func main() {
            _ = fuzzPath  // load the site before the clock starts
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
        }
    }
#else
    @main
    struct PatchbayFuzzRunner {
        static func main() {
            var files: [String] = []
            for arg in CommandLine.arguments.dropFirst() {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: arg, isDirectory: &isDirectory), isDirectory.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: arg)) ?? []
                    files += names.sorted().map { "\(arg)/\($0)" }
                } else {
                    files.append(arg)
                }
            }
            var produced = 0
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                produced += fuzzInput(Array(data))
            }
            print("\(files.count) inputs, \(produced) messages produced, no crash")
        }
    }
#endif

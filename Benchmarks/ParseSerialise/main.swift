import COsip
import Foundation
import PluginAPI
import SIPCore

let bytes = Array(FileManager.default.contents(atPath: CommandLine.arguments[1])!)
let n = 200_000
let parser = SIPParser()
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
var sink = 0
// Each figure is the mean over n iterations after the same warm start; only ratios between lines are meaningful.
// 1. osip parse only
var t0 = now()
for _ in 0..<n {
    var m: UnsafeMutablePointer<osip_message_t>?
    osip_message_init(&m)
    bytes.withUnsafeBufferPointer { b in
        b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { _ = osip_message_parse(m, $0, b.count) }
    }
    osip_message_free(m)
}
let osipParse = Double(now() - t0) / Double(n)
// 2. osip parse + to_str
t0 = now()
for _ in 0..<n {
    var m: UnsafeMutablePointer<osip_message_t>?
    osip_message_init(&m)
    bytes.withUnsafeBufferPointer { b in
        b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { _ = osip_message_parse(m, $0, b.count) }
    }
    var out: UnsafeMutablePointer<CChar>?
    var len = 0
    osip_message_to_str(m, &out, &len)
    sink &+= len
    pb_osip_free(out)
    osip_message_free(m)
}
let osipBoth = Double(now() - t0) / Double(n)
// 3. Patchbay parse (osip validation + Swift model)
t0 = now()
var msg: SIPMessage? = nil
for _ in 0..<n {
    msg = try! parser.parse(bytes)
    sink &+= msg!.headers.count
}
let ours = Double(now() - t0) / Double(n)
// 4. Swift serialise from the model
t0 = now()
for _ in 0..<n { sink &+= msg!.serialized().count }
let ser = Double(now() - t0) / Double(n)
print(String(format: "message %d bytes, %d iterations", bytes.count, n))
print(String(format: "osip parse            %.2f us", osipParse / 1000))
print(
    String(
        format: "osip parse + to_str   %.2f us  (to_str alone %.2f us)", osipBoth / 1000, (osipBoth - osipParse) / 1000)
)
print(String(format: "patchbay parse        %.2f us  (osip + Swift model)", ours / 1000))
print(
    String(
        format: "Swift serialise       %.2f us  = %.2fx of osip_message_to_str", ser / 1000,
        ser / (osipBoth - osipParse)))
print(sink == 42 ? "" : " ")

import Engine
import PluginAPI
import Routing
import SIPCore

/// Everything Patchbay does to one message short of the network, in one call: the parser and its guards, the
/// answer to a refused request, and for a request the inbound adapter, routing and every target's outbound
/// adapter (from each configured peer in turn), for a response the adapters of every pair of peers, and the SDP
/// codec operations, then serialisation of whatever came out. The fuzzer drives it with random bytes and the
/// test suite with the fixtures and every input the fuzzer ever crashed on; nothing here may trap, except the one
/// check below that the engine's Call-ID scan agrees with the parser, which is what the fuzzer is to find.
public struct MessagePath: Sendable {
    public let site: Site
    private let parser = SIPParser()

    public init(site: Site) { self.site = site }

    /// Returns how many messages the path produced (so the work cannot be optimised away).
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Int {
        // The engine picks a message's shard from this scan before anything parses it (`Engine.dispatch`): an answer
        // other than the parsed message's Call-ID would split a call over two shards.
        let scanned = SIPParser.callIDRange(in: bytes)
        let message: SIPMessage
        do {
            message = try parser.parse(bytes)
            if let scanned {
                // Compared as octets: the model keeps octets that are not UTF-8 (`OctetText`).
                precondition(
                    Array(bytes[scanned]) == OctetText.octets(message.callID ?? ""),
                    "the Call-ID scan disagrees with the parser")
            }
        } catch let e as SIPParseError {
            guard let status = e.responseStatus, let answer = Engine.errorResponse(status, e.reason, bytes) else {
                return 0
            }
            return answer.serialized().count > 0 ? 1 : 0
        } catch {
            return 0
        }
        var produced = message.serialized().isEmpty ? 0 : 1
        let peers = site.configuration.peers.map(\.name)
        if message.isRequest {
            for peer in peers {
                guard let result = try? RequestProcessor(site: site).process(message, from: peer) else { continue }
                for leg in result.legs { produced += leg.message.serialized().isEmpty ? 0 : 1 }
            }
        } else {
            for from in peers {
                for to in peers where to != from {
                    guard let a = site.adapters[from], let b = site.adapters[to] else { continue }
                    produced += Relay.translate(Relay.content(of: message), from: a, to: b).serialized().isEmpty ? 0 : 1
                }
            }
        }
        if var sdp = message.sdp {
            sdp.keepCodecs(["PCMA", "PCMU", "G729", "telephone-event"])
            sdp.orderCodecs(["PCMU"])
            _ = sdp.remapTelephoneEvent(to: 101)
            sdp.setFormatParameter(codec: "G729", name: "annexb", value: "no")
            sdp.setPacketTime(20)
            var m = message
            m.sdp = sdp
            produced += m.serialized().isEmpty ? 0 : 1
        }
        return produced
    }
}

import COsip
import Calls
import Engine
import NIOCore
import PluginAPI
import Routing
import SIPCore

/// The per-message work of `patchbay run` short of sockets, transactions and timers, as public entry points for
/// the micro-benchmarks in `Benchmarks/` (a separate package, which sees only public API). Each function does to
/// one message what the engine does to it and returns the bytes that would be sent, so nothing can be optimised
/// away:
/// - an initial INVITE: parse, stamp the top Via with the address it came from (as `Shard.receive`; the bench's
///   caller, 127.0.0.1:5070), classify, inbound adapter, route (`RequestProcessor` without explanations, as
///   `Shard.startCall`), the first target's outbound adapter (as `Call.tryNextTarget`), serialise;
/// - a response from the target: parse, both adapters and the caller's header policy (`Relay.forward`), the
///   caller's response built from it
///   (`Relay.response`, as `Call.bResponse`), serialise;
/// - an in-dialog request (BYE): parse, stamp the top Via, both adapters, the request on the other leg
///   (`CallLeg.makeRequest`, as `Call.relay`), serialise.
public struct HotPath: Sendable {
    public let site: Site
    private let parser = SIPParser()
    private let leg: CallLeg
    private let via = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-pb0bench;rport"
    private let contact = "<sip:127.0.0.1:5060>"
    private let caller = try! SocketAddress(ipAddress: "127.0.0.1", port: 5070)

    /// `site` must have the peers the messages are passed between; the other leg of in-dialog requests is a
    /// dialog with `inDialogPeer` at 127.0.0.1:5080.
    public init(site: Site, inDialogPeer: String) {
        self.site = site
        let uri = SIPURI(user: "+44123456789", host: "127.0.0.1", port: 5080)
        var local = NameAddress(uri: SIPURI(user: "bench", host: "127.0.0.1", port: 5060))
        local.tag = "pb-local-tag"
        leg = CallLeg(
            peer: inDialogPeer,
            destination: SIPDestination(
                transport: .udp, address: try! SocketAddress(ipAddress: "127.0.0.1", port: 5080)),
            callID: "pb-bench-call-id@127.0.0.1", localTag: "pb-local-tag", remoteTag: "uas-tag",
            localURI: local, remoteURI: NameAddress(uri: uri), remoteTarget: uri, localCSeq: 1)
    }

    /// An initial request from `source`, through the request chain as `Shard.handleRequest` runs it (the source
    /// named rather than looked up by address); the first target's request, as `Call.tryNextTarget` makes it,
    /// serialised.
    public func initialRequest(_ bytes: [UInt8], from source: String) throws -> [UInt8] {
        var message = try parser.parse(bytes)
        Shard.stampVia(&message, source: caller)
        var state = RequestState(site: site, message: message)
        guard RequestChain.standard.run(&state, in: OfflineEnvironment(source: source)) == .toTargets,
            let house = state.house, let first = state.targets.first
        else { return [] }
        return RequestProcessor(site: site).leg(for: first, house: house, parsed: state.houseSDP)?.message
            .serialized() ?? []
    }

    /// A response from `target` to the request `request` received from `source`, as `Call.bResponse` relays a
    /// 180 or 200 to the caller; the caller's response, serialised.
    public func response(_ bytes: [UInt8], from target: String, to source: String, answering request: SIPMessage) throws
        -> [UInt8]
    {
        let r = try parser.parse(bytes)
        guard let status = r.statusCode else { return [] }
        let content = Relay.forward(r, from: target, to: source, site: site, localHost: "127.0.0.1")
        let reason: String
        if case .response(_, _, let phrase) = r.startLine { reason = phrase } else { reason = "" }
        return Relay.response(status, reason, to: request, toTag: "pb-a-tag", contact: contact, content: content)
            .serialized()
    }

    /// An in-dialog request (BYE, INFO, UPDATE) from `source`, as `Call.relay` passes it to the other leg; the
    /// request on the other leg, serialised.
    public func inDialogRequest(_ bytes: [UInt8], from source: String) throws -> [UInt8] {
        var request = try parser.parse(bytes)
        Shard.stampVia(&request, source: caller)
        var other = leg
        var out = other.makeRequest(request.method, via: via, contact: contact)
        let content = Relay.forward(request, from: source, to: leg.peer, site: site, localHost: "127.0.0.1")
        out.headers += content.headers
        out.body = content.body
        return out.serialized()
    }

    /// The floor: libosip2 parsing `bytes` and writing them back (`osip_message_parse` + `osip_message_to_str`),
    /// nothing else. Returns the length written.
    public static func osipParseAndSerialise(_ bytes: [UInt8]) -> Int {
        SIPParser.initialiseOsip()
        var m: UnsafeMutablePointer<osip_message_t>?
        guard osip_message_init(&m) == 0, let msg = m else { return 0 }
        defer { osip_message_free(msg) }
        let rc = bytes.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { osip_message_parse(msg, $0, b.count) }
        }
        guard rc == 0 else { return 0 }
        var out: UnsafeMutablePointer<CChar>?
        var len = 0
        guard osip_message_to_str(msg, &out, &len) == 0 else { return 0 }
        pb_osip_free(out)
        return len
    }
}

import NIOCore
import PluginAPI
import Testing

@testable import Engine
@testable import Routing

/// Message composition across legs, without sockets.
@Suite struct RelayTests {
    static let invite = try! SIPMessage(
        parsing: """
            INVITE sip:0301234@pb SIP/2.0\r
            Via: SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK-1;rport\r
            Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0\r
            From: <sip:2345@10.0.0.5>;tag=a\r
            To: <sip:0301234@pb>\r
            Call-ID: c1\r
            CSeq: 5 INVITE\r
            Contact: <sip:2345@10.0.0.5:5070>\r
            Record-Route: <sip:proxy.site;lr>\r
            P-Asserted-Identity: <sip:+49301232345@10.0.0.5>\r
            Diversion: <sip:2000@10.0.0.5>;reason=no-answer\r
            X-Tenant: a\r
            Content-Type: application/sdp\r
            \r
            v=0\r

            """)

    @Test func responseCopiesTheRequestsTransactionHeadersAndAddsOurTag() {
        let r = Relay.response(180, "Ringing", to: Self.invite, toTag: "pb0xyz", contact: "<sip:192.0.2.1:5060>")
        #expect(r.statusCode == 180)
        #expect(
            r.values("Via") == [
                "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK-1;rport", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0",
            ])
        #expect(r.to?.tag == "pb0xyz")
        #expect(r.from?.tag == "a")
        #expect(r.header("CSeq") == "5 INVITE")
        #expect(r.header("Contact") == "<sip:192.0.2.1:5060>")
        #expect(!r.hasHeader("Record-Route"), "the caller's route set is not echoed by a B2BUA")
        let busy = Relay.response(486, "Busy Here", to: Self.invite, toTag: "t", contact: "<sip:x>")
        #expect(!busy.hasHeader("Contact"), "no Contact on a 4xx")
    }

    @Test func relayableContentDropsEveryLegHeader() {
        let c = Relay.content(of: Self.invite)
        #expect(c.headers.map(\.name) == ["P-Asserted-Identity", "Diversion", "X-Tenant", "Content-Type"])
        #expect(c.body == Self.invite.body)
    }

    @Test func assertedIdentitiesCarryPatchbaysHost() {
        var c = Relay.content(of: Self.invite)
        Relay.hideTopology(&c, localHost: "192.0.2.1", external: false)
        #expect(c.header("P-Asserted-Identity") == "<sip:+49301232345@192.0.2.1>")
        #expect(c.header("Diversion") == "<sip:2000@10.0.0.5>;reason=no-answer", "inside, redirection keeps its domain")
    }

    @Test func towardsAnExternalPeerRedirectionCarriesPatchbaysHostToo() {
        var c = Relay.content(of: Self.invite)
        Relay.hideTopology(&c, localHost: "192.0.2.1", external: true)
        #expect(c.header("Diversion") == "<sip:2000@192.0.2.1>;reason=no-answer")
    }

    @Test func viaGetsReceivedAndRportFromTheRealSource() throws {
        var m = Self.invite
        Shard.stampVia(&m, source: try SocketAddress(ipAddress: "198.51.100.7", port: 40000))
        #expect(m.values("Via").first == "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK-1;rport=40000;received=198.51.100.7")
        #expect(m.values("Via").count == 2, "only the top Via changes")
        var same = Self.invite
        Shard.stampVia(&same, source: try SocketAddress(ipAddress: "10.0.0.5", port: 5070))
        #expect(
            same.values("Via").first == "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK-1;rport=5070",
            "no received= when the host matches")
    }

    /// RFC 3261 section 18.2.1 asks whether the sent-by is "an IP address that differs from the packet source
    /// address": addresses are compared, not their spellings.
    @Test func viaHostIsComparedWithTheSourceAsAnAddress() throws {
        let v6 = try SocketAddress(ipAddress: "2001:db8::5", port: 5070)
        let v4 = try SocketAddress(ipAddress: "10.0.0.5", port: 5070)
        #expect(Shard.isAddress("2001:DB8:0:0::5", of: v6))
        #expect(!Shard.isAddress("2001:db8::6", of: v6))
        #expect(!Shard.isAddress("pbx.example", of: v6))
        #expect(Shard.isAddress("10.0.0.5", of: v4))
        #expect(!Shard.isAddress("10.0.0.50", of: v4))
        #expect(!Shard.isAddress("2001:db8::5", of: v4), "another address family")
        #expect(Shard.isAddress("::ffff:10.0.0.5", of: v4), "IPv4-mapped: one address, as peer classification has it")
        #expect(!Shard.isAddress("", of: v4))
        #expect(!Shard.isAddress("10.0.0.5\u{0}x", of: v4), "not cut short at a NUL")
        var m = Self.invite
        m.setValues("Via", ["SIP/2.0/UDP [2001:DB8:0::5]:5070;branch=z9hG4bK-1"])
        Shard.stampVia(&m, source: v6)
        #expect(
            m.values("Via").first == "SIP/2.0/UDP [2001:DB8:0::5]:5070;branch=z9hG4bK-1",
            "the same address: no received=")
    }

    @Test func onlyTheTopEntryOfACommaSeparatedViaIsStamped() throws {
        var m = Self.invite
        m.setValues("Via", [])
        m.headers.insert(
            SIPHeader("v", " SIP/2.0/UDP [2001:DB8::5]:5070 ;branch=z9hG4bK-1,SIP/2.0/TCP  10.0.0.1 ;branch=z9hG4bK-0"),
            at: 0)
        Shard.stampVia(&m, source: try SocketAddress(ipAddress: "2001:db8::5", port: 5070))
        #expect(
            m.headers[0].value
                == " SIP/2.0/UDP [2001:DB8::5]:5070 ;branch=z9hG4bK-1,SIP/2.0/TCP  10.0.0.1 ;branch=z9hG4bK-0",
            "same host (case aside) and no rport: nothing to stamp")
        Shard.stampVia(&m, source: try SocketAddress(ipAddress: "192.0.2.9", port: 5999))
        #expect(
            m.headers[0].value
                == " SIP/2.0/UDP [2001:DB8::5]:5070 ;branch=z9hG4bK-1;received=192.0.2.9,SIP/2.0/TCP  10.0.0.1 ;branch=z9hG4bK-0",
            "the second entry keeps its bytes")
    }

    /// RFC 3581: the port goes into the `rport` that came without a value, whatever its case and spacing; an
    /// `rport` with a value and a `received` already there are left as they are.
    @Test func rportIsFilledWhereverItStandsAndOnlyOnce() throws {
        let source = try SocketAddress(ipAddress: "192.0.2.9", port: 5999)
        func stamp(_ via: String) -> String? {
            var m = Self.invite
            m.setValues("Via", [via])
            Shard.stampVia(&m, source: source)
            return m.values("Via").first
        }
        #expect(
            stamp("SIP/2.0/UDP 192.0.2.9:5070;RPort;branch=z9hG4bK-1")
                == "SIP/2.0/UDP 192.0.2.9:5070;RPort=5999;branch=z9hG4bK-1")
        #expect(
            stamp("SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-1 ; rport ")
                == "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-1 ; rport=5999")
        #expect(
            stamp("SIP/2.0/UDP 192.0.2.9:5070;rportx;branch=z9hG4bK-1")
                == "SIP/2.0/UDP 192.0.2.9:5070;rportx;branch=z9hG4bK-1",
            "another parameter that starts with rport")
        #expect(
            stamp("SIP/2.0/UDP 192.0.2.9:5070;rport=5070;branch=z9hG4bK-1")
                == "SIP/2.0/UDP 192.0.2.9:5070;rport=5070;branch=z9hG4bK-1")
        #expect(
            stamp("SIP/2.0/UDP pbx.example;received=192.0.2.9;branch=z9hG4bK-1")
                == "SIP/2.0/UDP pbx.example;received=192.0.2.9;branch=z9hG4bK-1",
            "received is there already")
        #expect(
            stamp("SIP/2.0/UDP pbx.example;branch=z9hG4bK-1;rport")
                == "SIP/2.0/UDP pbx.example;branch=z9hG4bK-1;rport=5999;received=192.0.2.9")
    }
}

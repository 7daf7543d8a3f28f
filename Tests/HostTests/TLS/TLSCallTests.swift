import Foundation
import NIOSSL
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Records
@testable import Routing
@testable import SIPCore

/// SIP over TLS end to end, with certificates made for the test: a Lync-style peer calling in over mutual TLS, a
/// peer without a certificate refused at the handshake, and a call out to a TLS gateway whose certificate is
/// checked against that peer's own CA.
@Suite(
    .serialized, .enabled(if: SippHarness.sippIsInstalled && TestPKI.opensslIsInstalled, "sipp and openssl are needed"))
struct TLSCallTests {
    /// A TLS listener with Patchbay's certificate that requires client certificates from the test CA, and a TLS peer.
    static func site(_ pki: TestPKI, tlsPort: UInt16, peer: String) -> (String) -> String {
        { config in
            config.replacingOccurrences(
                of: "listen:\n",
                with: """
                    listen:
                      - {transport: tls, address: 127.0.0.1, port: \(tlsPort), certificate: \(pki.path("patchbay.pem")), private_key: \(pki.path("patchbay.key")), client_ca: \(pki.path("ca.pem"))}

                    """) + peer
        }
    }

    /// Patchbay with a TLS listener and `gwtls`, a TLS gateway at `address`, as the national route's target.
    static func startWithTLSGateway(
        _ pki: TestPKI, address: String, tls: String, top: String = "", _ test: String = #function
    ) async throws -> PatchbayUnderTest {
        try await PatchbayUnderTest.start(
            test, top: top,
            routes: """
                routes:
                  - name: national
                    match: {from: pbx, to: "+49"}
                    targets: [gwtls]

                """,
            editConfig: Self.site(
                pki, tlsPort: try SippPorts.freeUDPPort(),
                peer: """
                      - name: gwtls
                        plugin: PSTNGateway
                        kind: internal
                        transport: tls
                        address: \(address)
                        numbering: {country_code: "49", area_code: "30"}
                        tls: \(tls)

                    """))
    }

    /// The gateway's side of a call the caller hangs up: 200 with SDP, then the ACK and the BYE, answered.
    static func answerAndAwaitTheBye(_ invite: SIPMessage, at gateway: TLSTestEndpoint) async throws {
        var ok = Relay.response(
            200, "OK", to: invite, toTag: "gw1", contact: "<sip:gw@127.0.0.1:\(gateway.port);transport=tls>")
        ok.headers.append(SIPHeader("Content-Type", "application/sdp"))
        ok.body = Array(Self.sdp.utf8)
        try await gateway.send(ok)
        #expect(await gateway.next { $0.method == "ACK" } != nil)
        let bye = try #require(await gateway.next { $0.method == "BYE" })
        try await gateway.send(Relay.response(200, "OK", to: bye, toTag: nil, contact: nil))
    }

    static func message(_ lines: [String], body: String = "") -> SIPMessage {
        var text = lines.joined(separator: "\r\n") + "\r\n"
        if !body.isEmpty { text += "Content-Type: application/sdp\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return try! SIPMessage(bytes: Array(text.utf8))
    }

    static let sdp =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"

    /// ```
    ///  lync (127.0.0.2, TLS, client cert)     Patchbay                    gw (UDP sipp)
    ///   | INVITE sip:+4930987654;user=phone ---> | INVITE sip:030987654 ----> |
    ///   | <-------------------------------- 200  | <------------------- 200   |
    ///   | ACK, BYE -----------------------------> | ACK, BYE ---------------> |
    ///   | <-------------------------------- 200  | <------------------- 200   |
    /// ```
    @Test func aPeerWithAClientCertificateCallsInOverTLS() async throws {
        let pki = try TestPKI()
        try pki.issue("patchbay", subjectAltName: "IP:127.0.0.1,DNS:patchbay.test")
        let lync = try pki.issue("lync", subjectAltName: "DNS:lync.test")
        let tlsPort = try SippPorts.freeUDPPort()
        let pb = try await PatchbayUnderTest.start(
            routes: """
                routes:
                  - name: from-lync
                    match: {from: lync, to: "+49"}
                    targets: [gw]

                """,
            editConfig: Self.site(
                pki, tlsPort: tlsPort,
                peer: """
                      - name: lync
                        plugin: IPPBX
                        profile: lync
                        kind: internal
                        transport: tls
                        address: 127.0.0.2:5061
                        numbering: {country_code: "49", area_code: "30"}

                    """))
        defer { pb.stop() }
        #expect(pb.log.contains("tls=127.0.0.1:\(tlsPort)"))
        let gw = try await pb.sipp(
            "uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false, keys: ["expect_ruser": "030987654"])
        defer { _ = gw.stop() }

        let client = try await TLSTestEndpoint.connect(
            to: Int(tlsPort), from: "127.0.0.2", ca: pki.path("ca.pem"), certificate: lync)
        defer { Task { await client.close() } }
        let me = "127.0.0.2:\(client.port)"
        try await client.send(
            Self.message(
                [
                    "INVITE sip:+4930987654@127.0.0.1:\(tlsPort);user=phone;transport=tls SIP/2.0",
                    "Via: SIP/2.0/TLS \(me);branch=z9hG4bK-tls-1", "Max-Forwards: 70",
                    "From: <sip:+49301232345@lync.test;user=phone>;tag=lync1",
                    "To: <sip:+4930987654@127.0.0.1;user=phone>",
                    "Call-ID: tls-call-1@127.0.0.2", "CSeq: 1 INVITE",
                    "Contact: <sip:+49301232345@\(me);transport=tls>",
                ], body: Self.sdp))
        let ok = try #require(await client.next(timeout: .seconds(10)) { ($0.statusCode ?? 0) >= 200 }, "\(pb.log)")
        #expect(ok.statusCode == 200)
        #expect(ok.header("Contact")?.contains("transport=tls") == true, "in-dialog requests come back over TLS")
        let toTag = try #require(ok.to?.tag)
        let dialog = [
            "Max-Forwards: 70", "From: <sip:+49301232345@lync.test;user=phone>;tag=lync1",
            "To: <sip:+4930987654@127.0.0.1;user=phone>;tag=\(toTag)", "Call-ID: tls-call-1@127.0.0.2",
        ]
        try await client.send(
            Self.message(
                ["ACK sip:127.0.0.1:\(tlsPort);transport=tls SIP/2.0", "Via: SIP/2.0/TLS \(me);branch=z9hG4bK-tls-2"]
                    + dialog + ["CSeq: 1 ACK"]))
        try await client.send(
            Self.message(
                ["BYE sip:127.0.0.1:\(tlsPort);transport=tls SIP/2.0", "Via: SIP/2.0/TLS \(me);branch=z9hG4bK-tls-3"]
                    + dialog + ["CSeq: 2 BYE"]))
        let byeOK = await client.next { $0.cseq?.method == "BYE" }
        #expect(byeOK?.statusCode == 200)
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        // The call line is logged when the other leg answers Patchbay's BYE, which can be after this peer is done.
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:200"])
    }

    /// No client certificate: the handshake is refused, nothing is processed, and the log says why.
    @Test func aPeerWithoutAClientCertificateIsRefusedAtTheHandshake() async throws {
        let pki = try TestPKI()
        try pki.issue("patchbay", subjectAltName: "IP:127.0.0.1")
        let tlsPort = try SippPorts.freeUDPPort()
        let pb = try await PatchbayUnderTest.start(editConfig: Self.site(pki, tlsPort: tlsPort, peer: ""))
        defer { pb.stop() }
        let client = try await TLSTestEndpoint.connect(
            to: Int(tlsPort), from: "127.0.0.1", ca: pki.path("ca.pem"), certificate: nil)
        defer { Task { await client.close() } }
        try? await client.send(
            Self.message([
                "OPTIONS sip:127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-x", "Max-Forwards: 70",
                "From: <sip:a@b>;tag=1", "To: <sip:c@d>", "Call-ID: no-cert", "CSeq: 1 OPTIONS",
            ]))
        #expect(await client.waitForClose())
        #expect(await client.next(timeout: .milliseconds(300)) == nil)
        #expect(await pb.waitForLog("TLS handshake"), "\(pb.log)")
    }

    /// Out to a TLS gateway: Patchbay checks its certificate against the peer's own CA and presents its own.
    /// With the wrong CA configured the handshake fails and the call fails over at once (no other target: 503).
    @Test(arguments: [true, false]) func aCallOutToATLSGatewayChecksItsCertificate(trusted: Bool) async throws {
        let pki = try TestPKI()
        try pki.issue("patchbay", subjectAltName: "IP:127.0.0.1")
        let gwCert = try pki.issue("gateway", subjectAltName: "IP:127.0.0.1,DNS:gw.test")
        try pki.otherCA("other-ca")
        let gateway = try await TLSTestEndpoint.listen(certificate: gwCert, clientCA: pki.path("ca.pem"))
        defer { Task { await gateway.close() } }
        let pb = try await Self.startWithTLSGateway(
            pki, address: "127.0.0.1:\(gateway.port)",
            tls: "{ca: \(pki.path(trusted ? "ca.pem" : "other-ca.pem")), server_name: gw.test}")
        defer { pb.stop() }
        if !trusted {
            let pbx = try await pb.sipp(
                "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["status": "503"])
            defer { _ = pbx.stop() }
            #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
            #expect(await pb.waitForLog("TLS handshake"))
            #expect(await gateway.next(timeout: .milliseconds(200)) == nil)
            return
        }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .milliseconds(300))
        defer { _ = pbx.stop() }
        let invite = try #require(await gateway.next(timeout: .seconds(10)) { $0.method == "INVITE" }, "\(pb.log)")
        #expect(invite.requestURI?.user == "030987654")
        #expect(invite.header("Via")?.hasPrefix("SIP/2.0/TLS") == true)
        try await Self.answerAndAwaitTheBye(invite, at: gateway)
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
    }

    /// A TLS gateway given by host name, as Teams Direct Routing and most TLS trunks are: found by its SIPS SRV
    /// record (a real DNS server on loopback), its certificate checked against that name.
    @Test(.enabled(if: DNSServerUnderTest.isInstalled, "dnsmasq is needed"))
    func aTLSGatewayGivenByHostNameIsFoundBySRVAndItsCertificateNameChecked() async throws {
        let pki = try TestPKI()
        try pki.issue("patchbay", subjectAltName: "IP:127.0.0.1")
        let gwCert = try pki.issue("gateway", subjectAltName: "DNS:gw.patchbay.test")
        let gateway = try await TLSTestEndpoint.listen(certificate: gwCert, clientCA: pki.path("ca.pem"))
        defer { Task { await gateway.close() } }
        var records = DNSServerUnderTest.Records()
        records.srv("_sips._tcp.gw.patchbay.test", target: "gw.patchbay.test", port: gateway.port)
        records.host("gw.patchbay.test", "127.0.0.1")
        let dns = try DNSServerUnderTest(records)
        defer { dns.stop() }
        let pb = try await Self.startWithTLSGateway(
            pki, address: "gw.patchbay.test", tls: "{ca: \(pki.path("ca.pem"))}",
            top: "dns: {servers: [\"\(dns.server)\"]}")
        defer { pb.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .milliseconds(300))
        defer { _ = pbx.stop() }
        let invite = try #require(await gateway.next(timeout: .seconds(10)) { $0.method == "INVITE" }, "\(pb.log)")
        #expect(invite.header("Via")?.hasPrefix("SIP/2.0/TLS") == true)
        #expect(invite.requestURI?.host == "gw.patchbay.test")
        try await Self.answerAndAwaitTheBye(invite, at: gateway)
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        #expect(dns.output.contains("query[SRV] _sips._tcp.gw.patchbay.test"), "\(dns.output)")
    }

    /// A renewed certificate (here from another CA) put in place over the old files is used for new connections
    /// after a reload, without a restart.
    @Test func aRenewedCertificateIsUsedAfterAReload() async throws {
        let pki = try TestPKI()
        try pki.issue("patchbay", subjectAltName: "IP:127.0.0.1")
        let client = try pki.issue("client", subjectAltName: "DNS:client.test")
        try pki.otherCA("new-ca")
        try pki.issue("renewed", subjectAltName: "IP:127.0.0.1", ca: "new-ca")
        let tlsPort = try SippPorts.freeUDPPort()
        let pb = try await PatchbayUnderTest.start(editConfig: Self.site(pki, tlsPort: tlsPort, peer: ""))
        defer { pb.stop() }
        let options = Self.message([
            "OPTIONS sip:127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK-r", "Max-Forwards: 70",
            "From: <sip:a@b>;tag=1", "To: <sip:c@d>", "Call-ID: renewal", "CSeq: 1 OPTIONS",
        ])
        // A client that trusts only the new CA cannot talk to the old certificate...
        let before = try await TLSTestEndpoint.connect(
            to: Int(tlsPort), from: "127.0.0.1", ca: pki.path("new-ca.pem"), certificate: client)
        try? await before.send(options)
        #expect(await before.waitForClose())
        await before.close()
        // ...until the renewed files replace the old ones and Patchbay reloads.
        for ext in ["pem", "key"] {
            let renewed = try Data(contentsOf: URL(fileURLWithPath: pki.path("renewed.\(ext)")))
            try renewed.write(to: URL(fileURLWithPath: pki.path("patchbay.\(ext)")))
        }
        pb.signal(SIGHUP)
        #expect(await pb.waitForLog("reloaded"), "\(pb.log)")
        let after = try await TLSTestEndpoint.connect(
            to: Int(tlsPort), from: "127.0.0.1", ca: pki.path("new-ca.pem"), certificate: client)
        defer { Task { await after.close() } }
        try await after.send(options)
        #expect(await after.next(timeout: .seconds(5)) { $0.callID == "renewal" } != nil, "\(pb.log)")
    }
}

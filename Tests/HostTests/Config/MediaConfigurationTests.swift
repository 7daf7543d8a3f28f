import Foundation
import PluginAPI
import Testing

@testable import Routing

/// `rtpengine:` and a peer's `media:`: read as written, and every mistake refused at its line and column.
@Suite struct MediaConfigurationTests {
    static func config(rtpengine: String?, gwMedia: String, pbxMedia: String = "{mode: pass}") -> String {
        """
        routes: routes.yaml
        \(rtpengine.map { "rtpengine:\n" + $0 } ?? "")
        peers:
          - name: pbx
            plugin: IPPBX
            kind: internal
            address: 127.0.0.1:5070
            media: \(pbxMedia)
          - name: gw
            plugin: PSTNGateway
            kind: internal
            address: 127.0.0.1:5080
            media: \(gwMedia)

        """
    }

    static let engines = """
          instances:
            - {name: r1, address: "127.0.0.1:2223", weight: 3}
            - {name: r2, address: "127.0.0.2:2223"}
          interfaces: [inside, outside]
        """

    @Test func anAnchoringPeerIsReadWithEverySetting() throws {
        let media =
            "{mode: anchor, interface: outside, srtp: sdes, ice: remove, codecs: [PCMA, PCMU], transcode: [G722], dtmf: info, relay: optional, flags: [SDES-pad]}"
        let (site, d, _) = try ConfigurationTests.load(
            config: Self.config(rtpengine: Self.engines, gwMedia: media), routes: "routes: []\n")
        #expect(d.errors.isEmpty, "\(d.errors)")
        let configuration = try #require(site?.configuration)
        #expect(configuration.rtpengine?.instances.map(\.name) == ["r1", "r2"])
        #expect(configuration.rtpengine?.instances.first?.weight == 3)
        #expect(configuration.rtpengine?.interfaces == ["inside", "outside"])
        let gw = try #require(configuration.peer(named: "gw")?.media)
        #expect(gw.mode == .anchor && gw.interface == "outside" && gw.srtp == .sdes && gw.ice == .remove)
        #expect(gw.codecs == ["PCMA", "PCMU"] && gw.transcode == ["G722"] && gw.dtmf == .info)
        #expect(gw.relay == .optional && gw.flags == ["SDES-pad"])
        #expect(configuration.peer(named: "pbx")?.media.mode == .pass)
        #expect(site?.callSettings["gw"]?.media == gw, "what a call reads is the peer's entry")
    }

    @Test func badMediaValuesArePositioned() throws {
        let (site, d, dir) = try ConfigurationTests.load(
            config: Self.config(
                rtpengine: Self.engines, gwMedia: "{mode: anchor, srtp: maybe, interface: outsde}",
                pbxMedia: "{mode: pass, codecs: [PCMA]}"),
            routes: "routes: []\n")
        #expect(site == nil)
        let file = "\(dir)/patchbay.yaml"
        #expect(
            d.errors.map(\.description) == [
                "\(file):12:25: error: 'codecs' needs 'mode: anchor': media passed through is not touched",
                "\(file):17:33: error: 'srtp' must be one of off, sdes, dtls, optional, found 'maybe'",
                "\(file):17:40: error: peer 'gw': no rtpengine interface 'outsde' (rtpengine 'interfaces': inside, outside) (did you mean 'outside'?)",
            ])
    }

    @Test func anchoringWithoutRtpengineAndABadInstanceAreRefused() throws {
        let (_, d, dir) = try ConfigurationTests.load(
            config: Self.config(rtpengine: nil, gwMedia: "{mode: anchor}"), routes: "routes: []\n")
        #expect(
            d.errors.map(\.description) == [
                "\(dir)/patchbay.yaml:13:12: error: peer 'gw' anchors its media, but no 'rtpengine' instances are configured"
            ])
        let (_, d2, dir2) = try ConfigurationTests.load(
            config: Self.config(
                rtpengine: "  instances: [{name: r1, address: rtpengine}]", gwMedia: "{mode: anchor}"),
            routes: "routes: []\n")
        #expect(
            d2.errors.map(\.description) == [
                "\(dir2)/patchbay.yaml:3:26: error: rtpengine address 'rtpengine' must be HOST:PORT (its --listen-ng)"
            ])
    }
}

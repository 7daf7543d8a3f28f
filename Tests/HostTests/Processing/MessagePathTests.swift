import Foundation
import PluginAPI
import Testing

@testable import Engine
@testable import Harness
@testable import Routing

/// The fuzz target's path, run on every fixture and every input the fuzzer ever crashed on: nothing may trap, and
/// valid requests really go through the adapters and routing.
struct MessagePathTests {
    static func files(in dir: String, suffixes: [String]) -> [String] {
        let path = TestSupport.path(dir)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { n in suffixes.contains { n.hasSuffix($0) } }.sorted().map { "\(path)/\($0)" }
    }

    static let inputs =
        files(in: "Tests/Fixtures", suffixes: [".sip"]) + files(in: "Tests/Fixtures/rfc4475", suffixes: [".dat"])
        + files(in: "Tests/Fixtures/fuzz", suffixes: [".bin"])

    @Test func everyFixtureAndFuzzRegressionRunsThroughTheWholePath() throws {
        let site = try #require(TestSupport.loadSite(TestSupport.path("Examples/berlin/patchbay.yaml")))
        let path = MessagePath(site: site)
        #expect(Self.inputs.count > 60)
        for file in Self.inputs {
            let bytes = try #require(FileManager.default.contents(atPath: file)).map { $0 }
            _ = path.run(bytes)
        }
        // The PBX's INVITE is routed from every peer it could come from; from the PBX itself it fans out to the
        // national route's targets, each through its adapter.
        let invite = try TestSupport.fixture("pbx-invite-national.sip")
        #expect(path.run(invite) >= 1 + 2)
    }

    @Test func aRefusedRequestIsAnsweredFromItsRawHeaders() {
        let site = TestSupport.loadSite(TestSupport.path("Examples/berlin/patchbay.yaml"))!
        let broken =
            "OPTIONS sip:a@b SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
        #expect(MessagePath(site: site).run(Array(broken.utf8)) == 1, "one answer (505)")
        #expect(MessagePath(site: site).run(Array("garbage".utf8)) == 0)
    }
}

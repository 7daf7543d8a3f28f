import Foundation
import Testing

@testable import Engine
@testable import Routing

/// `auth:` and `registration:` on a peer: what is read, and the positioned errors for what cannot be used.
@Suite struct CredentialsConfigurationTests {
    static func trunk(_ extra: String) -> String {
        """
        routes: routes.yaml
        peers:
          - name: itsp
            plugin: ITSPTrunk
            kind: external
            address: 127.0.0.1:5090
        \(extra)
        """
    }

    static func parse(_ text: String, dir: String = "/nonexistent") -> (PatchbayConfiguration?, Diagnostics) {
        let d = Diagnostics()
        return (PatchbayConfiguration.parse(text, file: "\(dir)/patchbay.yaml", diagnostics: d), d)
    }

    @Test func credentialsAndRegistrationAreRead() throws {
        let (config, d) = Self.parse(
            Self.trunk(
                """
                    auth: {username: "4930123000", password: "pw", realm: sip.example.net}
                    registration: {domain: sip.example.net, expires: 600, retry_min: 5, retry_max: 60}
                """))
        #expect(d.errors.isEmpty, "\(d.errors)")
        let peer = try #require(config?.peer(named: "itsp"))
        #expect(peer.credentials == .init(username: "4930123000", password: "pw", realm: "sip.example.net"))
        #expect(peer.registration?.user == "4930123000", "the AOR user defaults to the auth username")
        #expect(peer.registration?.domain == "sip.example.net")
        #expect(peer.registration?.expires == 600)
        #expect(peer.registration?.retryMin == 5 && peer.registration?.retryMax == 60)
    }

    @Test func passwordFileIsReadRelativeToTheConfiguration() throws {
        let dir = try TestSupport.temporaryDirectory()
        try TestSupport.write("from-file\n", to: "\(dir)/itsp.secret")
        let (config, d) = Self.parse(Self.trunk("    auth: {username: u, password_file: itsp.secret}"), dir: dir)
        #expect(d.errors.isEmpty, "\(d.errors)")
        #expect(config?.peer(named: "itsp")?.credentials?.password == "from-file")
    }

    @Test func unusableBlocksGivePositionedErrors() {
        let (config, d) = Self.parse(
            Self.trunk(
                """
                    auth: {username: u, password: a, password_file: b}
                    registration: {expires: 5, retry_min: 10, retry_max: 2, refresh: 3}
                """))
        #expect(config == nil)
        let f = "/nonexistent/patchbay.yaml"
        #expect(
            d.errors.map(\.description) == [
                "\(f):7:38: error: give 'password' or 'password_file', not both",
                "\(f):8:29: error: 'expires' must be between 10 and 86400, found 5",
                "\(f):8:47: error: 'retry_max' (2.0) is less than 'retry_min' (10.0)",
                "\(f):8:61: error: unknown key 'refresh' in registration",
            ])
    }

    @Test func registrationNeedsAUser() {
        let (config, d) = Self.parse(Self.trunk("    registration: {expires: 600}"))
        #expect(config == nil)
        #expect(d.errors.first?.message.contains("'registration' needs 'user'") == true)
    }
}

import Foundation
import Testing

@testable import Engine
@testable import Operations
@testable import Routing
@testable import SIPCore

/// Outbound registration and digest answers against sipp peers that really check the digest (`verifyauth`).
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct RegistrationTests {
    static func withTrunkAuth(_ lines: String) -> (String) -> String {
        { config in config + lines }
    }

    /// REGISTER, 401, REGISTER with the answer, 200 granting 2 s; then the refresh comes on the same Call-ID, is
    /// challenged again (a new nonce) and answered again.
    @Test func registersWithDigestAndRefreshesBeforeExpiry() async throws {
        let pb = try await PatchbayUnderTest.start(
            editConfig: Self.withTrunkAuth(
                """
                    auth: {username: "4930123000", password: "s3cret"}
                    registration: {expires: 300, retry_min: 0.5}

                """))
        defer { pb.stop() }
        let registrar = try await pb.sipp(
            "uas-registrar", label: "registrar", port: pb.ports.itsp, toPatchbay: false,
            keys: ["user": "4930123000", "password": "s3cret", "expires": "2"])
        defer { _ = registrar.stop() }
        #expect(await registrar.wait(timeout: .seconds(15)) == .exited(0), "\(registrar.diagnostics)\n\(pb.log)")
        let registers = try registrar.messages().received("REGISTER")
        #expect(registers.count == 4)
        #expect(Set(registers.map { $0.header("Call-ID") ?? "" }).count == 1, "one Call-ID for the binding")
        let cseqs = registers.compactMap { $0.header("CSeq")?.split(separator: " ").first.flatMap { Int($0) } }
        #expect(cseqs == cseqs.sorted() && Set(cseqs).count == cseqs.count, "CSeq counts up: \(cseqs)")
        #expect(registers[0].header("Authorization") == nil)
        #expect(registers[1].header("Authorization")?.contains("username=\"4930123000\"") == true)
        #expect(registers[0].header("Contact")?.contains("sip:4930123000@127.0.0.1:\(pb.ports.patchbay)") == true)
        #expect(registers[0].header("Expires") == "300")
        // Granted 2 s: the refresh is due after 1 s, well before the binding lapses.
        if let granted = registers[1].epochSeconds, let refresh = registers[2].epochSeconds {
            #expect(refresh - granted > 0.7 && refresh - granted < 1.9, "refreshed after \(refresh - granted) s")
        }
        #expect(await pb.waitForLog("registered", count: 2))
        #expect(!pb.log.contains("s3cret"), "the password never reaches the log")
    }

    /// A registrar that refuses the account: Patchbay logs why and tries again after retry_min, not at once.
    @Test func refusedRegistrationBacksOffAndRetries() async throws {
        let pb = try await PatchbayUnderTest.start(
            editConfig: Self.withTrunkAuth(
                """
                    auth: {username: "4930123000", password: "wrong"}
                    registration: {retry_min: 0.5, retry_max: 4}

                """))
        defer { pb.stop() }
        let registrar = try await pb.sipp(
            "uas-registrar-refuse", label: "registrar", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = registrar.stop() }
        #expect(await registrar.wait(timeout: .seconds(15)) == .exited(0), "\(registrar.diagnostics)\n\(pb.log)")
        let registers = try registrar.messages().received("REGISTER")
        #expect(registers.count == 3)
        if let refused = registers[1].epochSeconds, let retry = registers[2].epochSeconds {
            #expect(retry - refused >= 0.45, "retried after \(retry - refused) s")
        }
        #expect(await pb.waitForLog("registration failed"))
        #expect(pb.log.contains("403 Forbidden") && pb.log.contains("retry_in=0.5"), "\(pb.log)")
        // The 503's Retry-After (60 s) is honoured up to retry_max: the next attempt waits 4 s.
        #expect(await pb.waitForLog("retry_in=4.0"), "\(pb.log)")
    }

    /// The trunk answers the INVITE with 401: Patchbay answers the challenge with the trunk's credentials on a new
    /// CSeq, the call connects, and the caller never sees the 401.
    @Test func inviteChallengeIsAnsweredAndTheCallConnects() async throws {
        let pb = try await PatchbayUnderTest.start(
            editConfig: Self.withTrunkAuth(
                """
                    auth: {username: "berlin", password: "trunk-pass", realm: trunk.test}

                """))
        defer { pb.stop() }
        let itsp = try await pb.sipp(
            "uas-auth-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false,
            keys: ["user": "berlin", "password": "trunk-pass", "expect_ruser": "+491701234567"])
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "001701234567", keys: ["caller": "2345"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)\n\(pb.log)")
        let invites = try itsp.messages().received("INVITE")
        #expect(invites.count == 2)
        #expect(invites[0].header("Call-ID") == invites[1].header("Call-ID"))
        #expect(invites[1].header("CSeq")?.hasPrefix("2 ") == true)
        #expect(invites[1].header("Via") != invites[0].header("Via"), "a new transaction, a new branch")
        #expect(try pbx.messages().received("401").isEmpty)
        // The call line is logged when the other leg answers Patchbay's BYE, which can be after this peer is done.
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["itsp:200"])
    }

    /// Without credentials the trunk's challenge cannot be answered: the caller gets 403, not a 407 it cannot
    /// answer either.
    @Test func unansweredChallengeReachesTheCallerAs403() async throws {
        let pb = try await PatchbayUnderTest.start(
            routes: """
                routes:
                  - name: mobile
                    match: {from: pbx, to: "+4917"}
                    targets: [itsp]

                """)
        defer { pb.stop() }
        let itsp = try await pb.sipp(
            "uas-auth-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false,
            keys: ["user": "x", "password": "y"])
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "001701234567", keys: ["status": "403"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
        #expect(pb.log.contains("no 'auth' credentials"))
    }
}

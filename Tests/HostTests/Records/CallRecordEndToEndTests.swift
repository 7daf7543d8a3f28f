import Foundation
import Testing

@testable import Engine
@testable import Operations
@testable import Records
@testable import Routing
@testable import SIPCore

/// Call records from a real `patchbay run` between sipp peers, read back with the built `patchbay calls` as an
/// operator would, after Patchbay has stopped.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct CallRecordEndToEndTests {
    // Field names as `patchbay calls --json` prints them.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    struct Printed: Decodable {
        struct Attempt: Decodable {
            var peer: String
            var status: Int
            var b_call_id: String?
            var called_number: String?
            var caller_number: String?
        }
        var a_call_id: String
        var b_call_id: String?
        var source: String
        var route: String?
        var called_in: String?
        var caller_in: String?
        var called_house: String?
        var caller_house: String?
        var target: String?
        var result: Int?
        var setup_time: String
        var answer_time: String?
        var end_time: String?
        var ended_by: String?
        var duration: Double?
        var attempts: [Attempt]
    }

    /// One answered call to the gateway and one the gateway refuses busy: both are in the file with both legs'
    /// Call-IDs, the numbers as sent and as each side received them, the result and who ended it; --failed and
    /// --peer select as documented.
    @Test func answeredAndBusyCallsAreRecordedAndQueried() async throws {
        let pb = try await PatchbayUnderTest.start(top: "call_records: {path: records/calls.sqlite, retention_days: 7}")
        defer { pb.stop() }
        #expect(await pb.waitForLog("call records"))

        let gw = try await pb.sipp(
            "uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false, keys: ["expect_ruser": "030987654"])
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["caller": "2345"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let answeredA = try #require(try pbx.messages().sent("INVITE").first?.header("Call-ID"))
        let answeredB = try #require(try gw.messages().received("INVITE").first?.header("Call-ID"))
        #expect(await pb.waitForLog("call ended"))

        let busyGW = try await pb.sipp(
            "uas-reject", label: "gw-busy", port: pb.ports.gateway, toPatchbay: false,
            keys: ["status": "486", "reason": "Busy Here"])
        defer { _ = busyGW.stop() }
        let busyPBX = try await pb.sipp(
            "uac-expect-status", label: "pbx-busy", port: pb.ports.pbx, service: "0030111222",
            keys: ["status": "486", "caller": "2346"])
        defer { _ = busyPBX.stop() }
        #expect(await busyPBX.wait(timeout: .seconds(15)) == .exited(0), "\(busyPBX.diagnostics)")
        #expect(await busyGW.wait(timeout: .seconds(5)) == .exited(0), "\(busyGW.diagnostics)")
        let busyA = try #require(try busyPBX.messages().sent("INVITE").first?.header("Call-ID"))
        #expect(await pb.waitForLog("call failed"))

        // A call the routing table refuses (nothing routes +1 numbers from the trunk) is recorded too.
        let stranger = try await pb.sipp(
            "uac-expect-status", label: "itsp-norule", port: pb.ports.itsp, service: "+15551234567",
            keys: ["status": "404", "caller": "+4940123456"])
        defer { _ = stranger.stop() }
        #expect(await stranger.wait(timeout: .seconds(15)) == .exited(0), "\(stranger.diagnostics)")
        let refusedA = try #require(try stranger.messages().sent("INVITE").first?.header("Call-ID"))

        // Stopping flushes the store; the records are read afterwards from the file alone.
        pb.stop()
        #expect(pb.log.contains("call records closed"), "stopping flushed and closed the store")
        #expect(
            FileManager.default.fileExists(atPath: pb.directory.appendingPathComponent("records/calls.sqlite").path))

        let all = try calls(pb, "--json")
        #expect(all.status == 0, "\(all.stderr)")
        let printed = try JSONDecoder().decode([Printed].self, from: Data(all.stdout.utf8))
        try #require(printed.count == 3, "\(all.stdout)")

        let answered = printed[0]
        #expect(answered.a_call_id == answeredA)
        #expect(answered.b_call_id == answeredB)
        #expect(answered.source == "pbx" && answered.target == "gw" && answered.route == "national")
        #expect(answered.result == 200 && answered.answer_time != nil && answered.end_time != nil)
        #expect(answered.ended_by == "caller")
        #expect(answered.called_in == "0030987654" && answered.caller_in == "2345")
        #expect(answered.called_house == "+4930987654" && answered.caller_house == "+49301232345")
        #expect(answered.attempts.count == 1)
        #expect(answered.attempts.first?.peer == "gw" && answered.attempts.first?.status == 200)
        #expect(answered.attempts.first?.called_number == "030987654", "as the gateway received it")
        #expect(answered.attempts.first?.caller_number == "0301232345")
        #expect((answered.duration ?? -1) >= 0)

        let busy = printed[1]
        #expect(busy.a_call_id == busyA)
        #expect(busy.source == "pbx" && busy.target == nil && busy.route == "national")
        #expect(busy.result == 486 && busy.answer_time == nil && busy.duration == nil)
        #expect(busy.called_in == "0030111222" && busy.called_house == "+4930111222")
        #expect(busy.attempts.map(\.peer) == ["gw"] && busy.attempts.first?.status == 486)
        #expect(busy.attempts.first?.called_number == "030111222")

        let refused = printed[2]
        #expect(refused.a_call_id == refusedA && refused.source == "itsp" && refused.route == nil)
        #expect(refused.result == 404 && refused.ended_by == "route" && refused.attempts.isEmpty)
        #expect(refused.called_in == "+15551234567" && refused.called_house == "+15551234567")

        let failed = try calls(pb, "--failed", "--json")
        #expect(
            try JSONDecoder().decode([Printed].self, from: Data(failed.stdout.utf8)).map(\.a_call_id) == [
                busyA, refusedA,
            ])

        // The human form: one line per call, the tried list and the numbers as sent.
        let lines = try calls(pb, "--peer", "gw", "--since", "1h")
        #expect(lines.status == 0, "\(lines.stderr)")
        let text = lines.stdout.split(separator: "\n")
        try #require(text.count == 2, "\(lines.stdout)")
        #expect(text[0].contains("a=\(answeredA) pbx -> gw route=national 0030987654 -> 030987654 200 "))
        #expect(text[0].hasSuffix("ended_by=caller tried=gw:200"))
        #expect(text[1].contains("a=\(busyA) pbx -> - route=national 0030111222 -> 030111222 486 - "))
        #expect(text[1].hasSuffix("tried=gw:486"))

        #expect(try calls(pb, "--peer", "itsp").stdout.split(separator: "\n").count == 1, "only the refused call")
        let badSince = try calls(pb, "--since", "yesterday")
        #expect(badSince.status != 0 && badSince.stderr.contains("--since"))
    }

    /// Records are on by default; a path Patchbay cannot create is an error in the log, and calls still go through.
    @Test func anUnusablePathLeavesPatchbayRunning() async throws {
        let dir = try SippHarness.makeDirectory()
        let blocker = dir.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        let pb = try await PatchbayUnderTest.start(top: "call_records: {path: \(blocker.path)/calls.sqlite}")
        defer { pb.stop() }
        #expect(pb.log.contains("call records disabled"), "\(pb.log)")
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        let r = try calls(pb)
        #expect(r.status == 1 && r.stderr.contains("calls.sqlite"), "\(r.stderr)")
    }

    /// Runs the built `patchbay calls` on the test's configuration, as a process.
    func calls(_ pb: PatchbayUnderTest, _ arguments: String...) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PatchbayUnderTest.executable)
        process.arguments = ["calls", pb.configFile.path] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        // Read before waiting: a full pipe would otherwise block the child forever.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }
}

import Foundation
import Testing

@testable import Engine
@testable import Operations
@testable import Records
@testable import Routing
@testable import SIPCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The operations listener of a real `patchbay run`, after real sipp calls: metrics, the API, reload through the
/// API, draining a peer, and the status page rendered by headless Chromium while a call is up.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct OperationsTests {
    static func start(_ function: String = #function, token: String? = nil) async throws -> (PatchbayUnderTest, Int) {
        let port = Int(try SippPorts.freeUDPPort())
        let tokenLine = token.map { ", token: \($0)" } ?? ""
        let pb = try await PatchbayUnderTest.start(
            function, top: "http: {address: 127.0.0.1, port: \(port)\(tokenLine)}")
        #expect(await pb.waitForLog("operations listening"))
        return (pb, port)
    }

    static func get(_ port: Int, _ path: String, method: String = "GET", token: String? = nil) async throws -> (
        Int, String
    ) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 5
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// Sample value of one series in the exposition (`name{labels} value`), labels in any order.
    static func sample(_ exposition: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name) && !line.hasPrefix("#") {
            let text = String(line)
            guard text.dropFirst(name.count).first == "{" || text.dropFirst(name.count).first == " " else { continue }
            if labels.allSatisfy({ text.contains("\($0.key)=\"\($0.value)\"") }),
                let v = text.split(separator: " ").last.flatMap({ Double($0) })
            {
                return v
            }
        }
        return nil
    }

    /// Two calls (one answered, one the gateway rejects busy), then /metrics and the API say so.
    @Test func metricsAndAPIAfterCalls() async throws {
        let (pb, port) = try await Self.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        _ = gw.stop()
        let busy = try await pb.sipp(
            "uas-reject", label: "gw2", port: pb.ports.gateway, toPatchbay: false, keys: ["status": "486"])
        defer { _ = busy.stop() }
        let pbx2 = try await pb.sipp(
            "uac-expect-status", label: "pbx2", port: pb.ports.pbx, service: "0030987654", keys: ["status": "486"])
        #expect(await pbx2.wait(timeout: .seconds(15)) == .exited(0), "\(pbx2.diagnostics)")
        #expect(await pb.waitForLog("call failed"))

        let (status, metrics) = try await Self.get(port, "/metrics")
        #expect(status == 200)
        #expect(
            Self.sample(metrics, "patchbay_calls_total", ["route": "national", "source": "pbx", "outcome": "answered"])
                == 1, "\(metrics)")
        #expect(Self.sample(metrics, "patchbay_calls_total", ["route": "national", "outcome": "failed"]) == 1)
        #expect(Self.sample(metrics, "patchbay_target_attempts_total", ["peer": "gw", "status": "200"]) == 1)
        #expect(Self.sample(metrics, "patchbay_target_attempts_total", ["peer": "gw", "status": "486"]) == 1)
        #expect((Self.sample(metrics, "patchbay_messages_received_total", ["transport": "udp"]) ?? 0) >= 8)
        #expect((Self.sample(metrics, "patchbay_messages_sent_total", ["transport": "udp"]) ?? 0) >= 8)
        #expect(Self.sample(metrics, "patchbay_calls_active") == 0)
        #expect(Self.sample(metrics, "patchbay_peer_up", ["peer": "gw"]) == 1)
        #expect((Self.sample(metrics, "patchbay_message_processing_seconds_count") ?? 0) >= 8)

        let (_, routesText) = try await Self.get(port, "/api/routes")
        let routes = try #require(Self.json(routesText) as? [String: Any])
        let national = try #require(
            (routes["routes"] as? [[String: Any]])?.first { $0["name"] as? String == "national" })
        #expect(
            national["attempted"] as? Int == 2 && national["answered"] as? Int == 1 && national["failed"] as? Int == 1)
        let (_, peersText) = try await Self.get(port, "/api/peers")
        let peers = try #require(Self.json(peersText) as? [[String: Any]])
        #expect(peers.map { $0["name"] as? String } == ["pbx", "gw", "itsp"])
        #expect(peers.allSatisfy { $0["up"] as? Bool == true })
        #expect(try await Self.get(port, "/nowhere").0 == 404)
        #expect(try await Self.get(port, "/api/reload").0 == 405)
    }

    /// A valid edit through the API is put in force (the version goes up); an invalid one is refused with the
    /// positioned error and the table in force stays.
    @Test func reloadThroughTheAPI() async throws {
        let (pb, port) = try await Self.start()
        defer { pb.stop() }
        let version = { () async throws -> Int? in
            (Self.json(try await Self.get(port, "/api/routes").1) as? [String: Any])?["version"] as? Int
        }
        #expect(try await version() == 1)
        try
            (PatchbayUnderTest.routes + """
                  - name: extra
                    match: {from: pbx, to: "+1"}
                    targets: [itsp]

                """).write(to: pb.routesFile, atomically: true, encoding: .utf8)
        let (okStatus, okText) = try await Self.get(port, "/api/reload", method: "POST")
        #expect(okStatus == 200, "\(okText)")
        #expect(try await version() == 2)
        #expect(try await Self.get(port, "/api/routes").1.contains("\"extra\""))

        try "routes:\n  - name: broken\n    match: {from: nobody}\n    targets: [gw]\n".write(
            to: pb.routesFile, atomically: true, encoding: .utf8)
        let (badStatus, badText) = try await Self.get(port, "/api/reload", method: "POST")
        #expect(badStatus == 422)
        let errors = (Self.json(badText) as? [String: Any])?["errors"] as? [String] ?? []
        #expect(errors.contains { $0.hasPrefix("\(pb.routesFile.path):3:") && $0.contains("nobody") }, "\(badText)")
        #expect(try await version() == 2, "the table in force stays")
        #expect(try await Self.get(port, "/").1.contains("Refused"))
    }

    /// A drained peer gets no new calls: the route's next target takes them.
    @Test func drainingAPeerThroughTheAPI() async throws {
        let (pb, port) = try await Self.start()
        defer { pb.stop() }
        #expect(try await Self.get(port, "/api/peers/gw/drain", method: "POST").0 == 200)
        #expect(try await Self.get(port, "/api/peers/nobody/drain", method: "POST").0 == 404)
        let itsp = try await pb.sipp("uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:down,itsp:200"])
        let peers = Self.json(try await Self.get(port, "/api/peers").1) as? [[String: Any]] ?? []
        #expect(peers.first { $0["name"] as? String == "gw" }?["drained"] as? Bool == true)
    }

    /// With a token, nothing is served without it.
    @Test func aTokenIsRequiredWhenConfigured() async throws {
        let (pb, port) = try await Self.start(token: "s3cr3t")
        defer { pb.stop() }
        #expect(try await Self.get(port, "/metrics").0 == 401)
        #expect(try await Self.get(port, "/metrics", token: "wrong").0 == 401)
        #expect(try await Self.get(port, "/metrics", token: "s3cr3t").0 == 200)
        #expect(try await Self.get(port, "/?token=s3cr3t").0 == 200)
    }

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// The status page rendered by a real headless browser while a call is up shows the call, its route and the
    /// peers' state; a screenshot is kept in the test directory.
    @Test(.enabled(if: chromium != nil, "chromium is needed")) func statusPageInHeadlessChromiumShowsALiveCall()
        async throws
    {
        let (pb, port) = try await Self.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .seconds(20))
        defer { _ = pbx.stop() }
        #expect(await pb.waitForLog("call setup"))
        let callID = try #require(try pbx.messages().sent("INVITE").first?.header("Call-ID"))
        let url = "http://127.0.0.1:\(port)/"
        let dom = try Self.runChromium(["--dump-dom", url], in: pb.directory)
        #expect(dom.contains(callID), "the live call's Call-ID is on the page:\n\(dom)")
        #expect(dom.contains("national"))
        #expect(dom.contains("+4930987654"), "the called number in the house format")
        #expect(dom.contains("<span class=\"up\">up</span>"))
        _ = try Self.runChromium(
            ["--screenshot=\(pb.directory.path)/status.png", "--window-size=1200,900", url], in: pb.directory)
        #expect(FileManager.default.fileExists(atPath: "\(pb.directory.path)/status.png"))
        // The call is held long enough for a slow Chromium start on a loaded machine; it is stopped here (defer).
    }

    /// Chromium as a child process, bounded in time, with its own profile directory; its stdout.
    static func runChromium(_ arguments: [String], in directory: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium!)
        p.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                // No --virtual-time-budget: with the page's meta refresh it keeps following refreshes and never ends.
                "--user-data-dir=\(directory.path)/chromium-profile",
            ] + arguments
        // To a file, not a pipe: Chromium's DOM dump can exceed a pipe's buffer before we read it.
        let outFile = directory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outFile)
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let deadline = Date().addingTimeInterval(40)
        while p.isRunning, Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    }
}

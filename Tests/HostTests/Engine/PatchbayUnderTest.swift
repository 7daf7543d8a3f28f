import Foundation
import Testing

@testable import Engine
@testable import Operations
@testable import Records
@testable import Routing
@testable import SIPCore

/// A real `patchbay run` process on 127.0.0.1 with a site written for one test: started from the build
/// directory, watched through its log, stopped by its pid.
final class PatchbayUnderTest: @unchecked Sendable {
    struct Ports {
        let patchbay: UInt16
        let pbx: UInt16
        let gateway: UInt16
        let itsp: UInt16

        static func allocate() throws -> Ports {
            Ports(
                patchbay: try SippPorts.freeUDPPort(), pbx: try SippPorts.freeUDPPort(),
                gateway: try SippPorts.freeUDPPort(), itsp: try SippPorts.freeUDPPort())
        }
    }

    let directory: URL
    let ports: Ports
    let process: Process
    var pid: Int32 { process.processIdentifier }
    var configFile: URL { directory.appendingPathComponent("patchbay.yaml") }
    var routesFile: URL { directory.appendingPathComponent("routes.yaml") }
    var logFile: URL { directory.appendingPathComponent("patchbay.log") }

    /// PBX (extensions 2000-2999 on +4930123, outside line 0), ISDN gateway, ITSP trunk. T1 is 50 ms so that a
    /// target that never answers times out (64*T1) in 3.2 s.
    static func config(_ p: Ports, gatewayExtra: String = "", top: String = "") -> String {
        """
        listen:
          - {transport: udp, address: 127.0.0.1, port: \(p.patchbay)}
          - {transport: tcp, address: 127.0.0.1, port: \(p.patchbay)}
        routes: routes.yaml
        timers: {t1_ms: 50, t2_ms: 400}
        \(top)
        peers:
          - name: pbx
            plugin: IPPBX
            kind: internal
            address: 127.0.0.1:\(p.pbx)
            numbering:
              country_code: "49"
              area_code: "30"
              access_code: "0"
              extensions: [{range: 2000-2999, did_prefix: "+4930123"}]
          - name: gw
            plugin: PSTNGateway
            kind: internal
            address: 127.0.0.1:\(p.gateway)
            numbering: {country_code: "49", area_code: "30"}
        \(gatewayExtra)
          - name: itsp
            plugin: ITSPTrunk
            kind: external
            address: 127.0.0.1:\(p.itsp)
            numbering: {country_code: "49"}

        """
    }

    static let routes = #"""
        routes:
          - name: mobile
            match: {from: pbx, to: ["+4915", "+4916", "+4917"]}
            targets: [itsp, gw]
          - name: national
            match: {from: pbx, to: "+49"}
            targets: [gw, itsp]
          - name: did
            match: {from: [gw, itsp], to: {regex: '\+49301232\d{3}'}}
            targets: [pbx]

        """#

    static var executable: String {
        var url = SippHarness.repoRoot
        url.appendPathComponent(".build/debug/patchbay")
        return url.path
    }

    static func start(
        _ test: String = #function, gatewayExtra: String = "", top: String = "", routes: String = routes,
        editConfig: (String) -> String = { $0 }
    ) async throws -> PatchbayUnderTest {
        let dir = try SippHarness.makeDirectory(test)
        let ports = try Ports.allocate()
        try editConfig(config(ports, gatewayExtra: gatewayExtra, top: top)).write(
            to: dir.appendingPathComponent("patchbay.yaml"), atomically: true, encoding: .utf8)
        try routes.write(to: dir.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let p = try PatchbayUnderTest(directory: dir, ports: ports)
        let deadline = ContinuousClock.now + .seconds(10)
        while !p.log.contains("listening") {
            guard p.process.isRunning, ContinuousClock.now < deadline else {
                p.stop()
                throw PatchbayTestError("patchbay did not start: \(p.log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return p
    }

    private init(directory: URL, ports: Ports) throws {
        self.directory = directory
        self.ports = ports
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["run", directory.appendingPathComponent("patchbay.yaml").path, "--log-level", "debug"]
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let log = directory.appendingPathComponent("patchbay.log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle(forWritingAtPath: log)
        try SippPeer.runWithSignalsUnblocked(process)
        self.process = process
    }

    deinit { if process.isRunning { stop() } }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func waitForLog(_ text: String, count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log.components(separatedBy: text).count - 1 >= count { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// The `tried=` field of each call line, in order: which targets were tried and what each answered.
    var attempts: [String] {
        log.split(separator: "\n").compactMap { line in
            guard line.contains("call ended") || line.contains("call failed"),
                let r = line.range(of: "tried=")
            else { return nil }
            return String(line[r.upperBound...].prefix { $0 != " " })
        }
    }

    func signal(_ sig: Int32) { if process.isRunning { kill(pid, sig) } }

    /// The exit status once the process has ended by itself, or nil if it is still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM twice by pid (drain, then stop now), SIGKILL if it does not go within two seconds.
    func stop() {
        guard process.isRunning else { return }
        // The first SIGTERM starts a drain (calls in progress may go on); a second one stops at once.
        kill(pid, SIGTERM)
        usleep(50_000)
        if process.isRunning { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    func sipp(
        _ scenario: String, label: String, port: UInt16, toPatchbay: Bool = true, service: String? = nil,
        calls: Int? = 1, pause: Duration? = nil, keys: [String: String] = [:],
        configure: (inout SippOptions) -> Void = { _ in }
    ) async throws -> SippPeer {
        var options = SippOptions(
            .named(scenario), label: label, localPort: port,
            remote: toPatchbay ? "127.0.0.1:\(ports.patchbay)" : nil, service: service, calls: calls, pause: pause,
            keys: keys)
        options.globalTimeout = .seconds(25)
        configure(&options)
        return try await SippPeer.start(options, in: directory)
    }
}

struct PatchbayTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

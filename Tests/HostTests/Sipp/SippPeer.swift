import Foundation

@testable import Calls
@testable import Engine
@testable import Operations
@testable import Records
@testable import Routing
@testable import SIPCore

#if canImport(Glibc)
    import Glibc
#endif

// Real sipp peers (Debian's sip-tester 3.6.1) on 127.0.0.1, started from tests, always bounded in time and stopped
// by their own pid. sipp's exit status, its statistics file and its message log are what tests look at.

/// Where things are, and what every peer shares.
enum SippHarness {
    static let sippPath = "/usr/bin/sipp"

    /// Suites that start sipp use this to skip cleanly on a machine without sip-tester.
    static var sippIsInstalled: Bool { FileManager.default.isExecutableFile(atPath: sippPath) }

    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)  // Tests/HostTests/Sipp/SippPeer.swift
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    static var scenariosDirectory: URL { repoRoot.appendingPathComponent("Tests/Scenarios") }

    /// One directory per test for the peers' logs, statistics and rendered scenarios. Kept afterwards: the files are
    /// small and are what one reads when a test fails.
    static func makeDirectory(_ test: String = #function) throws -> URL {
        let name = test.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        let dir = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("patchbay-sipp")
            .appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

enum SippError: Error, CustomStringConvertible {
    case missingKey(String, scenario: String)
    case socket(String)
    case notListening(port: UInt16, diagnostics: String)

    var description: String {
        switch self {
        case .missingKey(let key, let scenario): return "scenario \(scenario) needs the key '\(key)'"
        case .socket(let what): return "socket: \(what)"
        case .notListening(let port, let diagnostics): return "sipp never listened on \(port)\n\(diagnostics)"
        }
    }
}

// MARK: - Ports

enum SippPorts {
    private static let handedOut = SippLocked<Set<UInt16>>([])

    /// A UDP port on 127.0.0.1 that was free a moment ago. The kernel picks it (bind to port 0); the ports already
    /// handed out in this process are skipped, since the kernel may offer one again once its probe socket closed
    /// while the sipp it went to has not bound it yet.
    static func freeUDPPort() throws -> UInt16 {
        for _ in 0..<50 {
            let port = try probe()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw SippError.socket("no free UDP port after 50 tries")
    }

    /// A base for sipp's media sockets (`-mp`): it binds the port for audio RTP and the port + 2 for video, so
    /// four ports in a row are checked. Left to itself sipp tries 6000, 6002, ... up to 6198, which a suite of
    /// peers at once (and other test runs on the machine) exhausts or races for, exiting 254; with `-mp` it tries
    /// only the port given.
    static func freeMediaPortBase() throws -> UInt16 {
        for _ in 0..<50 {
            let (fd, base) = try bindUDP(port: 0)
            var fds = [fd]
            defer { for fd in fds { close(fd) } }
            guard base <= UInt16.max - 3 else { continue }
            var free = true
            for offset in 1...3 {
                guard let (next, _) = try? bindUDP(port: base + UInt16(offset)) else {
                    free = false
                    break
                }
                fds.append(next)
            }
            guard free else { continue }
            let block = Set((0...3).map { base + UInt16($0) })
            if handedOut.withLock({ taken in
                guard taken.isDisjoint(with: block) else { return false }
                taken.formUnion(block)
                return true
            }) {
                return base
            }
        }
        throw SippError.socket("no four free UDP ports in a row after 50 tries")
    }

    private static func probe() throws -> UInt16 {
        let (fd, port) = try bindUDP(port: 0)
        close(fd)
        return port
    }

    /// A UDP socket bound on 127.0.0.1, and its port. CLOEXEC: a sipp spawned meanwhile on another thread must not
    /// inherit the probe and hold its port.
    static func bindUDP(port: UInt16) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SippError.socket("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw SippError.socket("bind \(port): errno \(error)")
        }
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let error = errno
            close(fd)
            throw SippError.socket("getsockname: errno \(error)")
        }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    /// Whether some socket is bound to this UDP port, read from /proc rather than probed with bind(): a probe that
    /// won the race would make sipp fail to bind (exit 254).
    static func isBound(udpPort port: UInt16) -> Bool { isBound(port, tables: ["/proc/net/udp", "/proc/net/udp6"]) }

    /// TCP sockets bound to the port (listening or connected), for sipp started with `-t t1`.
    static func isBound(tcpPort port: UInt16) -> Bool { isBound(port, tables: ["/proc/net/tcp", "/proc/net/tcp6"]) }

    private static func isBound(_ port: UInt16, tables: [String]) -> Bool {
        let suffix = ":" + String(format: "%04X", port)
        for table in tables {
            guard let text = readProcFile(table) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count > 1, fields[1].hasSuffix(suffix) { return true }
            }
        }
        return false
    }

    /// /proc tables are generated a page per read(): String(contentsOfFile:) stops after the first page (its size
    /// is 0), which hides every socket past the 31st or so.
    private static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

// MARK: - Scenarios

/// A sipp scenario: one of sipp's built-ins (`-sn`) or an XML file (`-sf`).
///
/// Files may hold `${name}` and `${name:-default}`, filled in from the peer's keys before sipp reads them: sipp
/// 3.6.1 substitutes `-key` values in message text only (not in `regexp`, `response` or other attributes) and has
/// no defaults. Inside a `regexp` attribute a key's value matches literally, ignoring ASCII case; a default is
/// written in the file as a regular expression. In other attributes the value is XML-escaped, in message text it
/// goes in as it is. Comments are left alone, so they can name the keys.
enum SippScenario: Sendable, CustomStringConvertible {
    case builtin(String)
    case file(URL)

    /// `Tests/Scenarios/<name>.xml`.
    static func named(_ name: String) -> SippScenario {
        .file(SippHarness.scenariosDirectory.appendingPathComponent("\(name).xml"))
    }

    var description: String {
        switch self {
        case .builtin(let name): return "-sn \(name)"
        case .file(let url): return url.lastPathComponent
        }
    }

    static func render(_ text: String, keys: [String: String], scenario: String = "scenario") throws -> String {
        var renderer = TemplateRenderer(Array(text), keys: keys, scenario: scenario)
        return try renderer.render()
    }
}

private struct TemplateRenderer {
    private enum Place {
        case text, comment, cdata, tag
        case attribute(name: String, quote: Character)
    }

    let input: [Character]
    let keys: [String: String]
    let scenario: String
    var i = 0
    var output = ""

    init(_ input: [Character], keys: [String: String], scenario: String) {
        self.input = input
        self.keys = keys
        self.scenario = scenario
    }

    mutating func render() throws -> String {
        var place = Place.text
        var attributeName = ""
        while i < input.count {
            switch place {
            case .text:
                if at("<!--") {
                    place = .comment
                    copy(4)
                } else if at("<![CDATA[") {
                    place = .cdata
                    copy(9)
                } else if at("${") {
                    try placeholder(in: .text)
                } else if at("<") {
                    place = .tag
                    attributeName = ""
                    copy(1)
                } else {
                    copy(1)
                }
            case .comment:
                if at("-->") {
                    place = .text
                    copy(3)
                } else {
                    copy(1)
                }
            case .cdata:
                if at("]]>") {
                    place = .text
                    copy(3)
                } else if at("${") {
                    try placeholder(in: .cdata)
                } else {
                    copy(1)
                }
            case .tag:
                let c = input[i]
                if c == ">" {
                    place = .text
                } else if c == "\"" || c == "'" {
                    place = .attribute(name: attributeName, quote: c)
                } else if c.isLetter || c.isNumber || c == "_" || c == "-" {
                    // Letters after anything else start a new name; the last one before the quote names the value.
                    if i > 0,
                        !(input[i - 1].isLetter || input[i - 1].isNumber || input[i - 1] == "_"
                            || input[i - 1] == "-")
                    {
                        attributeName = ""
                    }
                    attributeName.append(c)
                }
                copy(1)
            case .attribute(let name, let quote):
                if input[i] == quote {
                    place = .tag
                    attributeName = ""
                    copy(1)
                } else if at("${") {
                    try placeholder(in: .attribute(name: name, quote: quote))
                } else {
                    copy(1)
                }
            }
        }
        return output
    }

    private func at(_ s: String) -> Bool {
        var j = i
        for c in s {
            guard j < input.count, input[j] == c else { return false }
            j += 1
        }
        return true
    }

    private mutating func copy(_ n: Int) {
        output.append(contentsOf: input[i..<min(i + n, input.count)])
        i += n
    }

    private mutating func placeholder(in place: Place) throws {
        var j = i + 2
        var name = ""
        while j < input.count, input[j].isLetter || input[j].isNumber || input[j] == "_" {
            name.append(input[j])
            j += 1
        }
        var fallback: String?
        if !name.isEmpty, j < input.count, input[j] == "}" {
            j += 1
        } else if !name.isEmpty, j + 1 < input.count, input[j] == ":", input[j + 1] == "-" {
            // The default ends at the brace that balances: a regexp default may hold {m,n}.
            j += 2
            var depth = 1
            var text = ""
            while j < input.count {
                if input[j] == "{" { depth += 1 }
                if input[j] == "}" {
                    depth -= 1
                    if depth == 0 { break }
                }
                text.append(input[j])
                j += 1
            }
            guard j < input.count else {
                copy(2)
                return
            }
            fallback = text
            j += 1
        } else {
            copy(2)
            return
        }
        i = j
        if let value = keys[name] {
            switch place {
            case .attribute(let attribute, _):
                output += Self.xmlEscaped(attribute == "regexp" ? Self.literalRegex(value) : value)
            default:
                output += value
            }
        } else if let fallback {
            output += fallback
        } else {
            throw SippError.missingKey(name, scenario: scenario)
        }
    }

    /// A POSIX extended regexp matching `value` literally, ignoring ASCII case. Special characters go in brackets
    /// rather than after a backslash, so nothing depends on how sipp's XML reader treats backslashes.
    static func literalRegex(_ value: String) -> String {
        var out = ""
        for c in value {
            if c.isASCII, c.isLetter {
                out += "[\(c.uppercased())\(c.lowercased())]"
            } else if c == "^" {
                out += "[]^]"  // '^' cannot stand alone in brackets; ']' first is literal too
            } else if ".[]()*+?{}|$\\".contains(c) {
                out += "[\(c)]"
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func xmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&apos;")
    }
}

// MARK: - Options

struct SippOptions: Sendable {
    var scenario: SippScenario
    /// Names the peer's files in the test directory (`<label>.messages.log`, ...), so keep it unique per test.
    var label: String
    var localPort: UInt16
    /// `-i`: the loopback address sipp sends from (127.0.0.2 plays a host that is no configured peer).
    var localIP = "127.0.0.1"
    /// `host:port` to call or to send to; nil for a peer that only answers.
    var remote: String?
    /// `-mp`: the first of the four ports sipp's media sockets may use; nil picks a free block (never sipp's own
    /// default range, see `SippPorts.freeMediaPortBase`).
    var mediaPort: UInt16?
    /// `-s`: the Request-URI user, `[service]` in scenarios.
    var service: String?
    /// `-m`: sipp exits after this many calls. nil runs until stopped (or until the global timeout).
    var calls: Int? = 1
    /// `-r` calls per second, and `-rp` the period they are counted over.
    var rate: Double?
    var ratePeriod: Duration?
    /// `-l`: the most calls at once.
    var limit: Int?
    /// `-d`: how long a scenario's `<pause/>` lasts.
    var pause: Duration?
    /// `-key name value`, and the `${name}` of scenario files.
    var keys: [String: String] = [:]
    /// `-set name value`: global variables (`<Global variables="..."/>` in the scenario).
    var variables: [String: String] = [:]
    /// `-timeout` with `-timeout_error`: sipp quits with status 255 when it passes. A backstop for peers the harness
    /// cannot stop (a crashed test process), since a plain `-timeout` only stops new calls and then waits for the
    /// running ones, retransmitting for half a minute. sipp checks it in whole seconds.
    var globalTimeout: Duration? = .seconds(20)
    /// `-recv_timeout`: a call fails when an expected message does not come in time.
    var receiveTimeout: Duration?
    var extraArguments: [String] = []

    init(
        _ scenario: SippScenario, label: String, localPort: UInt16, remote: String? = nil, service: String? = nil,
        calls: Int? = 1, pause: Duration? = nil, keys: [String: String] = [:]
    ) {
        self.scenario = scenario
        self.label = label
        self.localPort = localPort
        self.remote = remote
        self.service = service
        self.calls = calls
        self.pause = pause
        self.keys = keys
    }
}

// MARK: - Outcome

/// How a sipp process ended.
enum SippOutcome: Equatable, Sendable, CustomStringConvertible {
    /// sipp ended by itself: 0 all calls succeeded, 1 at least one failed, 97 stopped by an internal command,
    /// 99 normal exit without calls, 255 fatal error or `-timeout_error`, 254 it could not bind a socket.
    case exited(Int32)
    /// `wait(timeout:)` ran out; the harness stopped the process by its pid.
    case timedOut
    /// `stop()` ended a running process. (sipp exits 0 on SIGTERM, hence a case of its own.)
    case stopped
    /// It died of a signal the harness did not send.
    case signalled(Int32)

    var allCallsSucceeded: Bool { self == .exited(0) }

    var description: String {
        switch self {
        case .exited(0): return "exited 0 (all calls succeeded)"
        case .exited(1): return "exited 1 (some calls failed)"
        case .exited(97): return "exited 97 (internal command)"
        case .exited(99): return "exited 99 (no calls processed)"
        case .exited(254): return "exited 254 (could not bind a socket)"
        case .exited(255): return "exited 255 (fatal error or global timeout)"
        case .exited(let status): return "exited \(status)"
        case .timedOut: return "timed out, stopped by the harness"
        case .stopped: return "stopped by the harness"
        case .signalled(let signal): return "killed by signal \(signal)"
        }
    }
}

// MARK: - Peer

/// One running sipp process.
final class SippPeer: @unchecked Sendable {
    let options: SippOptions
    let directory: URL
    /// Everything after the executable, as sipp got it.
    let arguments: [String]
    let pid: Int32

    private let process: Process
    private let lock = NSLock()
    private var ended: SippOutcome?  // set once the harness has decided how the process ended

    var statisticsFile: URL { file("stats.csv") }
    var messageFile: URL { file("messages.log") }
    var errorFile: URL { file("errors.log") }
    var stdoutFile: URL { file("stdout.log") }
    var stderrFile: URL { file("stderr.log") }
    var scenarioFile: URL { file("xml") }

    private func file(_ suffix: String) -> URL { directory.appendingPathComponent("\(options.label).\(suffix)") }

    var commandLine: String {
        ([SippHarness.sippPath] + arguments).map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }
            .joined(separator: " ")
    }

    /// Starts sipp and returns once it listens on its port (so a caller started next finds it), or once it has
    /// already finished, which a short client run may do before a poll sees it listening.
    static func start(_ options: SippOptions, in directory: URL) async throws -> SippPeer {
        let peer = try SippPeer(options, directory: directory)
        let deadline = ContinuousClock.now + .seconds(5)
        let overTCP =
            options.extraArguments.firstIndex(of: "-t").map {
                options.extraArguments.dropFirst($0 + 1).first?.hasPrefix("t") == true
            } ?? false
        while !(overTCP ? SippPorts.isBound(tcpPort: options.localPort) : SippPorts.isBound(udpPort: options.localPort))
        {
            if !peer.process.isRunning { return peer }
            if ContinuousClock.now >= deadline {
                peer.stop()
                throw SippError.notListening(port: options.localPort, diagnostics: peer.diagnostics)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return peer
    }

    private init(_ options: SippOptions, directory: URL) throws {
        self.options = options
        self.directory = directory
        let path = { (suffix: String) in directory.appendingPathComponent("\(options.label).\(suffix)").path }
        var arguments: [String] = []
        switch options.scenario {
        case .builtin(let name):
            arguments += ["-sn", name]
        case .file(let url):
            let text = try String(contentsOf: url, encoding: .utf8)
            let rendered = try SippScenario.render(text, keys: options.keys, scenario: url.lastPathComponent)
            try rendered.write(toFile: path("xml"), atomically: true, encoding: .utf8)
            arguments += ["-sf", path("xml")]
        }
        if let remote = options.remote { arguments.append(remote) }
        arguments += ["-i", options.localIP, "-p", String(options.localPort), "-t", "u1", "-nostdin"]
        arguments += ["-mp", String(try options.mediaPort ?? SippPorts.freeMediaPortBase())]
        if let service = options.service { arguments += ["-s", service] }
        if let calls = options.calls { arguments += ["-m", String(calls)] }
        if let rate = options.rate { arguments += ["-r", String(rate)] }
        if let period = options.ratePeriod { arguments += ["-rp", String(period.sippMilliseconds)] }
        if let limit = options.limit { arguments += ["-l", String(limit)] }
        if let pause = options.pause { arguments += ["-d", String(pause.sippMilliseconds)] }
        for (name, value) in options.keys.sorted(by: { $0.key < $1.key }) { arguments += ["-key", name, value] }
        for (name, value) in options.variables.sorted(by: { $0.key < $1.key }) { arguments += ["-set", name, value] }
        if let timeout = options.globalTimeout {
            // Whole seconds: sipp truncates "1500ms" to 1 s.
            let seconds = max((timeout.sippMilliseconds + 999) / 1000, 1)
            arguments += ["-timeout", "\(seconds)s", "-timeout_error"]
        }
        if let timeout = options.receiveTimeout { arguments += ["-recv_timeout", String(timeout.sippMilliseconds)] }
        // -trace_stat's CSV gets its final row on every exit (normal, -timeout_error, SIGTERM); -trace_screen's
        // file stays empty unless sipp ends normally, so it is not used.
        arguments += ["-trace_stat", "-stf", path("stats.csv")]
        arguments += ["-trace_msg", "-message_file", path("messages.log")]
        arguments += ["-trace_err", "-error_file", path("errors.log")]
        arguments += options.extraArguments
        self.arguments = arguments

        let process = Process()
        process.executableURL = URL(fileURLWithPath: SippHarness.sippPath)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        _ = FileManager.default.createFile(atPath: path("stdout.log"), contents: nil)
        _ = FileManager.default.createFile(atPath: path("stderr.log"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: path("stdout.log"))
        process.standardError = FileHandle(forWritingAtPath: path("stderr.log"))
        try Self.runWithSignalsUnblocked(process)
        self.process = process
        self.pid = process.processIdentifier
    }

    /// Foundation's Process hands the spawning thread's signal mask to the child, and the threads tests run on
    /// (Swift concurrency's, Dispatch's) block nearly every signal. sipp started from one would ignore SIGTERM
    /// (so it could only be SIGKILLed, losing its final statistics) and never act on -timeout. So the spawn
    /// happens on a short-lived thread that has unblocked everything first.
    static func runWithSignalsUnblocked(_ process: Process) throws {
        final class Spawn: @unchecked Sendable {
            let process: Process
            var error: Error?
            let done = DispatchSemaphore(value: 0)
            init(_ process: Process) { self.process = process }
        }
        let spawn = Spawn(process)
        let thread = Thread {
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
            do { try spawn.process.run() } catch { spawn.error = error }
            spawn.done.signal()
        }
        thread.start()
        spawn.done.wait()
        if let error = spawn.error { throw error }
    }

    deinit {
        // A peer dropped without wait() or stop() must not outlive the test.
        if process.isRunning { _ = stop(grace: .milliseconds(200)) }
    }

    var isRunning: Bool { process.isRunning }

    /// Waits for sipp to end by itself. When `timeout` passes first, stops it by its pid (SIGTERM, then SIGKILL
    /// after `grace`) and answers `.timedOut`.
    @discardableResult
    func wait(timeout: Duration, grace: Duration = .milliseconds(500)) async -> SippOutcome {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                await terminate(grace: grace)
                return record(.timedOut)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return record(nil)
    }

    /// Ends the process by its pid if it still runs: SIGTERM, then SIGKILL after `grace`. Synchronous so that it
    /// can sit in a `defer`; it blocks for `grace` at most, plus the moment a SIGKILL takes.
    @discardableResult
    func stop(grace: Duration = .milliseconds(500)) -> SippOutcome {
        guard process.isRunning else { return record(nil) }
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { usleep(5_000) }
        if process.isRunning {
            signal(SIGKILL)
            let reaped = ContinuousClock.now + .seconds(2)
            while process.isRunning, ContinuousClock.now < reaped { usleep(5_000) }
        }
        return record(.stopped)
    }

    private func terminate(grace: Duration) async {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning {
            signal(SIGKILL)
            let reaped = ContinuousClock.now + .seconds(2)
            while process.isRunning, ContinuousClock.now < reaped { try? await Task.sleep(for: .milliseconds(5)) }
        }
    }

    private func signal(_ signal: Int32) {
        // Only this pid, and only while Process has not reaped it: after that the number may belong to another.
        guard pid > 0, process.isRunning else { return }
        kill(pid, signal)
    }

    /// The first decision sticks: a `wait` after `stop` still says `.stopped`.
    private func record(_ harness: SippOutcome?) -> SippOutcome {
        lock.lock()
        defer { lock.unlock() }
        if let ended { return ended }
        if let harness {
            ended = harness
        } else if !process.isRunning {
            switch process.terminationReason {
            case .exit: ended = .exited(process.terminationStatus)
            case .uncaughtSignal: ended = .signalled(process.terminationStatus)
            @unknown default: ended = .exited(process.terminationStatus)
            }
        }
        return ended ?? .stopped
    }

    // MARK: What sipp left behind

    /// The cumulative counters of the last row sipp wrote to its statistics CSV (it writes one at exit).
    func statistics() throws -> SippStatistics {
        try SippStatistics(csv: String(contentsOf: statisticsFile, encoding: .utf8))
    }

    /// Every message sipp sent or received, in order.
    func messages() throws -> SippMessageLog {
        try SippMessageLog(log: Data(contentsOf: messageFile))
    }

    /// sipp's own account of what went wrong: failed checks, unexpected messages, timeouts.
    var errorLog: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }

    var standardError: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// For a failing expectation's comment: the command, how it ended, and what sipp complained about.
    var diagnostics: String {
        let outcome = process.isRunning ? "still running" : record(nil).description
        var text = "sipp \(options.label) (pid \(pid), \(outcome)): \(commandLine)"
        let errors = errorLog.split(separator: "\n", omittingEmptySubsequences: false).suffix(40)
        if !errors.joined().isEmpty { text += "\n-- \(errorFile.path):\n" + errors.joined(separator: "\n") }
        let stderr = standardError.split(separator: "\n").suffix(20)
        if !stderr.isEmpty { text += "\n-- \(stderrFile.path):\n" + stderr.joined(separator: "\n") }
        return text
    }
}

// MARK: - Statistics

/// sipp's `-trace_stat` counters. Each counter has a periodic `(P)` and a cumulative `(C)` column; these are the
/// cumulative ones of the file's last row.
struct SippStatistics: Sendable {
    /// Column name to value, for the last row.
    let columns: [String: String]

    init(csv: String) throws {
        let lines = csv.split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
        guard lines.count >= 2 else { throw CocoaError(.fileReadCorruptFile) }
        // Timestamps hold tabs, never the ';' delimiter; every line ends with one.
        let names = lines[0].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let values = lines[lines.count - 1].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var columns: [String: String] = [:]
        for (name, value) in zip(names, values) where !name.isEmpty { columns[name] = value }
        self.columns = columns
    }

    /// A counter by its name in the CSV header without the `(C)`, e.g. "FailedRegexpShouldntMatch".
    subscript(counter: String) -> Int? {
        guard let text = columns["\(counter)(C)"] ?? columns[counter] else { return nil }
        return Int(text) ?? Double(text).map { Int($0) }
    }

    var successfulCalls: Int { self["SuccessfulCall"] ?? 0 }
    var failedCalls: Int { self["FailedCall"] ?? 0 }
    var retransmissions: Int { self["Retransmissions"] ?? 0 }
    var totalCallsCreated: Int { self["TotalCallCreated"] ?? 0 }
    var incomingCalls: Int { self["IncomingCall"] ?? 0 }
    var outgoingCalls: Int { self["OutgoingCall"] ?? 0 }
    /// A `check_it` regexp did not match.
    var failedRegexpDoesntMatch: Int { self["FailedRegexpDoesntMatch"] ?? 0 }
    /// A `check_it_inverse` regexp matched.
    var failedRegexpShouldntMatch: Int { self["FailedRegexpShouldntMatch"] ?? 0 }
    var failedRegexpHeaderNotFound: Int { self["FailedRegexpHdrNotFound"] ?? 0 }
    var failedUnexpectedMessage: Int { self["FailedUnexpectedMessage"] ?? 0 }
    var failedMaxUDPRetransmissions: Int { self["FailedMaxUDPRetrans"] ?? 0 }
    var failedTimeoutOnReceive: Int { self["FailedTimeoutOnRecv"] ?? 0 }
}

// MARK: - Message log

/// sipp's `-trace_msg` file: a dashed line with a timestamp, "UDP message received [N] bytes :" or
/// "UDP message sent (N bytes):", an empty line, then exactly N bytes of message.
struct SippMessageLog: Sendable {
    let messages: [SippLoggedMessage]

    var received: [SippLoggedMessage] { messages.filter { $0.direction == .received } }
    var sent: [SippLoggedMessage] { messages.filter { $0.direction == .sent } }

    /// Requests with this method, or responses with this status code ("INVITE", "180").
    func received(_ methodOrStatus: String) -> [SippLoggedMessage] { received.filter { $0.is(methodOrStatus) } }
    func sent(_ methodOrStatus: String) -> [SippLoggedMessage] { sent.filter { $0.is(methodOrStatus) } }

    init(log data: Data) {
        let bytes = [UInt8](data)
        let separator = Array("----------------------------------------------- ".utf8)
        var messages: [SippLoggedMessage] = []
        var i = 0
        func lineEnd(from start: Int) -> Int { bytes[start...].firstIndex(of: 0x0A) ?? bytes.count }
        while i < bytes.count {
            guard bytes.count - i >= separator.count, Array(bytes[i..<i + separator.count]) == separator else {
                i = lineEnd(from: i) + 1
                continue
            }
            let stampEnd = lineEnd(from: i)
            let timestamp = String(decoding: bytes[(i + separator.count)..<stampEnd], as: UTF8.self)
            guard stampEnd + 1 < bytes.count else { break }
            let headEnd = lineEnd(from: stampEnd + 1)
            let head = String(decoding: bytes[(stampEnd + 1)..<headEnd], as: UTF8.self)
            let direction: SippLoggedMessage.Direction = head.contains(" received ") ? .received : .sent
            let count = Int(head.filter(\.isNumber)) ?? 0
            var start = headEnd + 1
            if start < bytes.count, bytes[start] == 0x0A { start += 1 }
            let end = min(start + count, bytes.count)
            guard start <= end, head.contains("message") else {
                i = headEnd + 1
                continue
            }
            messages.append(
                SippLoggedMessage(
                    direction: direction, timestamp: timestamp,
                    text: String(decoding: bytes[start..<end], as: UTF8.self)))
            i = end
        }
        self.messages = messages
    }
}

struct SippLoggedMessage: Sendable {
    enum Direction: Sendable { case sent, received }

    let direction: Direction
    let timestamp: String
    /// The message as it went over the wire, CRLFs and all.
    let text: String

    private var headerLines: [Substring] {
        let head = text.components(separatedBy: "\r\n\r\n").first ?? text
        return head.split(separator: "\r\n", omittingEmptySubsequences: false).map { $0 }
    }

    /// When sipp logged it: the last field of the timestamp line is seconds since the epoch, with microseconds.
    var epochSeconds: Double? {
        timestamp.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap { Double($0) }
    }

    var startLine: String { headerLines.first.map(String.init) ?? "" }
    var isRequest: Bool { !startLine.hasPrefix("SIP/") }
    var method: String? { isRequest ? startLine.split(separator: " ").first.map(String.init) : nil }
    var statusCode: Int? { isRequest ? nil : startLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
    var requestURI: String? { isRequest ? startLine.split(separator: " ").dropFirst().first.map(String.init) : nil }

    /// The user part of the Request-URI, without user parameters (`sip:+4930123;npdi@host` gives `+4930123`).
    var requestURIUser: String? {
        guard let uri = requestURI, let colon = uri.firstIndex(of: ":"), let at = uri.firstIndex(of: "@") else {
            return nil
        }
        let user = uri[uri.index(after: colon)..<at]
        return String(user.prefix { $0 != ";" })
    }

    func `is`(_ methodOrStatus: String) -> Bool {
        if let status = Int(methodOrStatus) { return statusCode == status }
        return method == methodOrStatus
    }

    /// The values of every header with this name, in order; names compare ignoring case and the common compact
    /// forms count as their long names.
    func headers(_ name: String) -> [String] {
        let wanted = Self.longName(name.lowercased())
        return headerLines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let lineName = Self.longName(line[..<colon].trimmingCharacters(in: .whitespaces).lowercased())
            guard lineName == wanted else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    func header(_ name: String) -> String? { headers(name).first }

    var body: String {
        guard let range = text.range(of: "\r\n\r\n") else { return "" }
        return String(text[range.upperBound...])
    }

    private static func longName(_ name: String) -> String {
        let compact = [
            "i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
            "c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via",
        ]
        return compact[name] ?? name
    }
}

// MARK: -

private final class SippLocked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

extension Duration {
    fileprivate var sippMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

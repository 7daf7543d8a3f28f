import Foundation

/// A real DNS server (Debian's dnsmasq) on 127.0.0.1 at a free port, answering for `patchbay.test` from the records a
/// test gives it and nothing else (no upstream, no /etc/hosts): started for a test, stopped by its pid.
final class DNSServerUnderTest {
    static let path = "/usr/sbin/dnsmasq"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }
    static let domain = "patchbay.test"

    /// dnsmasq's own options for records: `srv-host=...`, `host-record=...`, `naptr-record=...`.
    struct Records {
        var lines: [String] = []
        /// The TTL of every record.
        var ttl = 60

        mutating func srv(_ owner: String, target: String, port: Int, priority: Int = 10, weight: Int = 1) {
            lines.append("--srv-host=\(owner),\(target),\(port),\(priority),\(weight)")
        }

        mutating func host(_ name: String, _ addresses: String...) {
            lines.append("--host-record=\(([name] + addresses).joined(separator: ","))")
        }

        mutating func naptr(_ owner: String, order: Int, preference: Int, service: String, replacement: String) {
            lines.append("--naptr-record=\(owner),\(order),\(preference),S,\(service),,\(replacement)")
        }
    }

    let port: Int
    let log: URL
    private(set) var pid: pid_t = 0
    var server: String { "127.0.0.1:\(port)" }

    init(_ records: Records, port: Int? = nil) throws {
        self.port = try port ?? Int(SippPorts.freeUDPPort())
        log = FileManager.default.temporaryDirectory.appendingPathComponent("dnsmasq-\(self.port).log")
        try start(records)
    }

    /// The same server again on the same port with other records (dnsmasq reads its records only when it starts).
    func restart(_ records: Records) throws {
        stop()
        try start(records)
    }

    /// posix_spawn, not Foundation's Process: dnsmasq closes every descriptor it inherits as it starts, which
    /// Process takes for its exit and waits for it on the one thread that notices every child's exit, so no
    /// other process the test started (patchbay, sipp) would be seen to end. Started with no signal blocked (the
    /// test's threads block SIGTERM, and a child inherits that); stopped by its pid.
    private func start(_ records: Records) throws {
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let arguments =
            [
                Self.path,
                // Not Debian's /etc/dnsmasq.conf, no upstream, no /etc/hosts: only the test's records.
                "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
                "--port=\(port)", "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
                "--local-ttl=\(records.ttl)", "--local=/\(Self.domain)/", "--log-queries", "--log-facility=-",
            ] + records.lines
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let status = posix_spawn(&pid, Self.path, &actions, &attributes, &argv, environ)
        guard status == 0 else {
            throw PatchbayTestError("dnsmasq did not start: \(String(cString: strerror(status)))")
        }
        // Bound once it says it started (it binds before that line).
        let deadline = Date().addingTimeInterval(5)
        while !output.contains("started, version"), Date() < deadline, isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    var isRunning: Bool { pid > 0 && kill(pid, 0) == 0 && !exited }

    private var exited: Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            pid = 0
            return true
        }
        return false
    }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    deinit { stop() }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

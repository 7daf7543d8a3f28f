import Logging
import NIOCore

/// The rtpengine instances a site uses, with weights and health: a new call's offer goes to an instance that is up
/// (weighted, stable per call key), and to the next one when it does not answer; every later request of the call
/// goes to the instance that has its media. Health comes from `ping` (`startHealthChecks`) and from requests that
/// time out. All state lives on the client's loop.
public final class RtpEngineSet: @unchecked Sendable {
    // @unchecked: `health` and `checks` are touched only on `client.loop`.
    public struct Instance: Sendable, Equatable {
        public var name: String
        public var address: SocketAddress
        /// Relative share of new calls among the instances that are up.
        public var weight: Int

        public init(name: String, address: SocketAddress, weight: Int = 1) {
            self.name = name
            self.address = address
            self.weight = max(1, weight)
        }
    }

    private struct Health {
        var up = true
        var failures = 0
    }

    public let instances: [Instance]
    private let client: NGClient
    private let logger: Logger
    /// Consecutive failed pings (or timed-out requests) before an instance is taken out.
    private let downAfter: Int
    private var health: [String: Health]
    private var checks: RepeatedTask?

    public init(
        client: NGClient, instances: [Instance], downAfter: Int = 2, logger: Logger = Logger(label: "patchbay.media")
    ) {
        self.client = client
        self.instances = instances
        self.downAfter = max(1, downAfter)
        self.logger = logger
        self.health = Dictionary(instances.map { ($0.name, Health()) }, uniquingKeysWith: { a, _ in a })
    }

    /// Whether `name` is taken into account for new calls (read on the client's loop).
    public func isUp(_ name: String) -> EventLoopFuture<Bool> {
        client.loop.submit { self.health[name]?.up ?? false }
    }

    /// Every instance's health, by name (read on the client's loop).
    public func states() -> EventLoopFuture<[String: Bool]> {
        client.loop.submit { self.health.mapValues(\.up) }
    }

    /// The instance a new call with `key` (the Call-ID's hash) goes to among those up and not `excluded`.
    func choose(for key: UInt64, excluding excluded: Set<String>) -> Instance? {
        let candidates = instances.filter { health[$0.name]?.up == true && !excluded.contains($0.name) }
        let total = candidates.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return nil }
        var point = Int(key % UInt64(total))
        for candidate in candidates {
            if point < candidate.weight { return candidate }
            point -= candidate.weight
        }
        return candidates.last
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No instance is up, or every one tried failed to answer.
        case noInstance(tried: [String])

        public var description: String {
            switch self {
            case .noInstance(let tried):
                tried.isEmpty
                    ? "no rtpengine instance is up"
                    : "no rtpengine instance answered (tried \(tried.joined(separator: ", ")))"
            }
        }
    }

    /// A new call's first request (its offer): to the chosen instance, and on a timeout to the next instance up,
    /// until one answers. A refusal is rtpengine's answer, not a failure of the instance: it is returned as is.
    public func start(_ message: BencodeValue, key: UInt64) -> EventLoopFuture<(Instance, BencodeValue)> {
        client.loop.flatSubmit { self.attempt(message, key: key, tried: []) }
    }

    private func attempt(_ message: BencodeValue, key: UInt64, tried: [String]) -> EventLoopFuture<
        (Instance, BencodeValue)
    > {
        guard let instance = choose(for: key, excluding: Set(tried)) else {
            return client.loop.makeFailedFuture(Failure.noInstance(tried: tried))
        }
        return client.request(message, to: instance.address)
            .map { answer -> (Instance, BencodeValue) in
                self.succeeded(instance.name)
                return (instance, answer)
            }
            .flatMapError { error in
                guard case NGClient.Failure.timeout = error else {
                    return self.client.loop.makeFailedFuture(error)
                }
                self.failed(instance.name, down: true)
                return self.attempt(message, key: key, tried: tried + [instance.name])
            }
    }

    /// A later request of a call whose media is on `instance`: no failover, the media cannot move.
    public func request(_ message: BencodeValue, on instance: Instance) -> EventLoopFuture<BencodeValue> {
        client.request(message, to: instance.address)
    }

    /// Pings every instance every `interval`: `downAfter` failures in a row take one out, one answer brings it
    /// back.
    public func startHealthChecks(every interval: TimeAmount) {
        client.loop.execute {
            self.checks?.cancel()
            self.checks = self.client.loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
                for instance in self.instances {
                    self.client.request(.dictionary([("command", .string("ping"))]), to: instance.address)
                        .whenComplete { result in
                            switch result {
                            case .success: self.succeeded(instance.name)
                            case .failure: self.failed(instance.name, down: false)
                            }
                        }
                }
            }
        }
    }

    public func stopHealthChecks() {
        client.loop.execute { self.checks?.cancel() }
    }

    private func succeeded(_ name: String) {
        guard var h = health[name] else { return }
        if !h.up { logger.notice("rtpengine up", metadata: ["instance": "\(name)"]) }
        h = Health()
        health[name] = h
    }

    /// A failure; `down` takes the instance out at once (a call's offer timed out on it).
    private func failed(_ name: String, down: Bool) {
        guard var h = health[name] else { return }
        h.failures += 1
        if h.up, down || h.failures >= downAfter {
            h.up = false
            logger.warning("rtpengine down", metadata: ["instance": "\(name)", "failures": "\(h.failures)"])
        }
        health[name] = h
    }
}

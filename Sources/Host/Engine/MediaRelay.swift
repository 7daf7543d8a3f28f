import Atomics
import Calls
import Logging
import Media
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Routing
import SIPCore

/// The engine's rtpengine instances (`rtpengine:` in the configuration), and the translation of a call's
/// `MediaCommand` into the ng protocol. Each event loop has a lane of its own (an ng client with its socket on that
/// loop, and its view of the instances' health), so a call's requests and their answers never change threads: a
/// hop to a shared client's loop and back cost each anchored call measurably more CPU than Kamailio's module spends
/// (BENCHMARKS.md).
package final class MediaRelay: Sendable {
    private struct Lane: Sendable {
        var client: NGClient
        var set: RtpEngineSet
    }

    private let lanes: [Lane]
    /// The first lane's instances and health, for the status page.
    package var set: RtpEngineSet { lanes[0].set }
    private let logger: Logger
    private let sessions = ManagedAtomic(0)
    private let failures = ManagedAtomic(0)
    private let dtmfChannel = NIOLockedValueBox<(any Channel)?>(nil)

    private init(lanes: [Lane], logger: Logger) {
        self.lanes = lanes
        self.logger = logger
    }

    /// A client socket and a view of the instances on each of `loops`; health checks start at once.
    package static func start(
        _ configuration: PatchbayConfiguration.RtpEngine, loops: [any EventLoop], logger: Logger
    ) async throws -> MediaRelay {
        var instances: [RtpEngineSet.Instance] = []
        for i in configuration.instances {
            let address = try SocketAddress.makeAddressResolvingHost(i.host, port: i.port)
            instances.append(RtpEngineSet.Instance(name: i.name, address: address, weight: i.weight))
        }
        var lanes: [Lane] = []
        for loop in loops {
            let client = try await NGClient.start(group: loop, logger: logger)
            let set = RtpEngineSet(client: client, instances: instances, logger: logger)
            set.startHealthChecks(every: .milliseconds(Int64(configuration.pingInterval * 1000)))
            lanes.append(Lane(client: client, set: set))
        }
        return MediaRelay(lanes: lanes, logger: logger)
    }

    private func lane(_ loop: any EventLoop) -> Lane {
        lanes.first { $0.client.loop === loop } ?? lanes[0]
    }

    /// Anchored sessions created and not yet deleted.
    package var activeSessions: Int { sessions.load(ordering: .relaxed) }
    /// Requests that failed (no instance answered, a refusal, an answer without SDP).
    package var failedRequests: Int { failures.load(ordering: .relaxed) }

    /// Runs `command`; the outcome is delivered on `loop`.
    package func run(_ command: MediaCommand, on loop: any EventLoop, completion: @escaping (MediaOutcome) -> Void) {
        let message = Self.message(for: command)
        let key = StableHash.fnv1a(command.callID)
        let set = lane(loop).set
        let future: EventLoopFuture<(RtpEngineSet.Instance, BencodeValue)>
        if let name = command.instance, let instance = set.instances.first(where: { $0.name == name }) {
            future = set.request(message, on: instance).map { (instance, $0) }
        } else {
            future = set.start(message, key: key)
        }
        let isNew = command.instance == nil
        future.hop(to: loop).whenComplete { [self] result in
            switch result {
            case .success(let (instance, answer)):
                guard case .bytes(let sdp)? = answer["sdp"], !sdp.isEmpty else {
                    failures.wrappingIncrement(ordering: .relaxed)
                    return completion(
                        .failed("rtpengine \(instance.name) answered \(command.kind.rawValue) without SDP"))
                }
                if isNew { sessions.wrappingIncrement(ordering: .relaxed) }
                completion(.sdp(sdp, instance: instance.name))
            case .failure(let error):
                failures.wrappingIncrement(ordering: .relaxed)
                completion(.failed("\(error)"))
            }
        }
    }

    /// Deletes a call's session; a failure is logged (rtpengine's own timeout removes the session in the end).
    package func delete(callID: String, instance name: String, on loop: any EventLoop) {
        let set = lane(loop).set
        guard let instance = set.instances.first(where: { $0.name == name }) else { return }
        sessions.wrappingDecrement(ordering: .relaxed)
        let message = BencodeValue.dictionary([("command", .string("delete")), ("call-id", .string(callID))])
        set.request(message, on: instance).whenFailure { [logger] error in
            logger.warning(
                "rtpengine delete failed",
                metadata: ["call-id": "\(callID)", "instance": "\(name)", "error": "\(error)"])
        }
    }

    /// Asks the instance holding the session to play `code` into the media the side with `fromTag` sends.
    package func playDTMF(
        callID: String, instance name: String, fromTag: String, code: String, durationMilliseconds: Int,
        on loop: any EventLoop
    ) {
        let set = lane(loop).set
        guard let instance = set.instances.first(where: { $0.name == name }) else { return }
        let message = BencodeValue.dictionary([
            ("command", .string("play DTMF")), ("call-id", .string(callID)), ("from-tag", .string(fromTag)),
            ("code", .string(code)), ("duration", .integer(durationMilliseconds)),
        ])
        set.request(message, on: instance).whenFailure { [logger, failures] error in
            failures.wrappingIncrement(ordering: .relaxed)
            logger.warning("rtpengine play DTMF failed", metadata: ["call-id": "\(callID)", "error": "\(error)"])
        }
    }

    /// Listens for rtpengine's DTMF events (its `--dtmf-log-dest`, one JSON object per datagram) and hands each
    /// to `handler` as (call-id, event, duration in ms, source tag). A datagram that is not such an event is
    /// dropped.
    package func listenForDTMF(
        host: String, port: Int, group: any EventLoopGroup,
        handler: @escaping @Sendable (String, Int, Int, String) -> Void
    ) async throws {
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.pipeline.addHandler(DTMFEventReader(handler: handler))
            }
            .bind(host: host, port: port).get()
        dtmfChannel.withLockedValue { $0 = channel }
    }

    package func stop() async {
        try? await dtmfChannel.withLockedValue { $0 }?.close()
        for lane in lanes {
            lane.set.stopHealthChecks()
            await lane.client.close()
        }
    }

    /// The ng dictionary for `command` (rtpengine's `offer` and `answer`).
    static func message(for command: MediaCommand) -> BencodeValue {
        var pairs: [(key: String, value: BencodeValue)] = [
            ("command", .string(command.kind.rawValue)), ("call-id", .string(command.callID)),
            ("from-tag", .string(command.fromTag)), ("sdp", .bytes(command.sdp)),
        ]
        if let toTag = command.toTag { pairs.append(("to-tag", .string(toTag))) }
        if !command.direction.isEmpty { pairs.append(("direction", .list(command.direction.map(BencodeValue.string)))) }
        if let p = command.transportProtocol { pairs.append(("transport-protocol", .string(p))) }
        if let ice = command.ice { pairs.append(("ICE", .string(ice))) }
        if let lite = command.iceLite { pairs.append(("ICE-lite", .string(lite))) }
        if !command.flags.isEmpty { pairs.append(("flags", .list(command.flags.map(BencodeValue.string)))) }
        if !command.replace.isEmpty { pairs.append(("replace", .list(command.replace.map(BencodeValue.string)))) }
        var codec: [(key: String, value: BencodeValue)] = []
        if !command.codecMask.isEmpty { codec.append(("mask", .list(command.codecMask.map(BencodeValue.string)))) }
        if !command.codecTranscode.isEmpty {
            codec.append(("transcode", .list(command.codecTranscode.map(BencodeValue.string))))
        }
        if !codec.isEmpty { pairs.append(("codec", .dictionary(codec))) }
        return .dictionary(pairs)
    }
}

import Foundation
import PluginAPI

/// Lets a plugin author test an adapter against raw message fixtures without the host: the same hook order the
/// host uses (`AdapterPipeline`), fixture files read byte-exact, and the round-trip check every adapter must pass.
public enum AdapterFixtures {
    /// Reads a raw message (`*.sip`, CRLF) from disk.
    public static func message(at path: String) throws -> SIPMessage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SIPFramingError("cannot read fixture \(path)")
        }
        return try SIPMessage(bytes: Array(data))
    }

    /// What the house sees when `adapter`'s peer sends `message`.
    public static func fromPeer(_ message: SIPMessage, _ adapter: any PeerAdapter) -> SIPMessage {
        var m = message
        AdapterPipeline.fromPeer(&m, adapter: adapter)
        return m
    }

    /// What `adapter`'s peer receives for a house-format `message`.
    public static func toPeer(_ message: SIPMessage, _ adapter: any PeerAdapter) -> SIPMessage {
        var m = message
        AdapterPipeline.toPeer(&m, adapter: adapter)
        return m
    }

    /// The requirement on `PeerAdapter`: a house-format message taken to the peer and back carries the same
    /// numbers. Returns one line per number that did not survive; empty means the adapter passes.
    public static func roundTripProblems(_ house: SIPMessage, _ adapter: any PeerAdapter) -> [String] {
        var there = house
        let out = AdapterPipeline.toPeer(&there, adapter: adapter)
        var back = there
        let inbound = AdapterPipeline.fromPeer(&back, adapter: adapter)
        var problems: [String] = []
        for change in out {
            let returned =
                inbound.first { $0.place == change.place && $0.before == change.after }?.after ?? change.after
            if returned != change.before {
                problems.append("\(change.place): \(change.before) -> peer \(change.after) -> house \(returned)")
            }
        }
        return problems
    }
}

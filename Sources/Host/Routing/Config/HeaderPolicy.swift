import PluginAPI

/// Which headers of what one peer sent may reach another: the relayable content only (the headers that identify a
/// transaction, a dialog or a hop are written by Patchbay for each leg, see `Relay.legHeaders`).
///
/// Towards an external peer (a trunk) the default is an allow-list: the standard headers a call needs, plus what
/// the peer's `headers.allow` names; anything else is dropped. Stripping one vendor header at a time cannot keep up
/// with vendors (a Cisco PBX's `Cisco-Guid`, an Avaya `Endpoint-View` carrying an internal host and tag), so what no
/// one listed does not leave the site. The adapter runs after the policy, so headers the peer's profile or options
/// add (`add_headers`, Remote-Party-ID for a peer that wants it) are the adapter's and pass.
public struct HeaderPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Only `standard` and `allow` pass.
        case allowList = "allow-list"
        /// Everything passes (what the peer's `internal_headers` and its profile strip aside).
        case pass
    }

    public var mode: Mode
    /// Names (or `Prefix*`) let through beyond `standard`.
    public var allow: HeaderNameList

    public init(mode: Mode, allow: [String] = []) {
        self.mode = mode
        self.allow = HeaderNameList(allow)
    }

    public static func `default`(for kind: PeerKind) -> HeaderPolicy {
        HeaderPolicy(mode: kind == .external ? .allowList : .pass)
    }

    /// Standard headers that carry meaning end to end and no topology of their own beyond what
    /// `Relay.hideTopology` rewrites: identity (RFC 3325, 3323), redirection (RFC 5806, 7044), the reason a call
    /// ended (RFC 3326), body description, capabilities, STIR/SHAKEN (RFC 8224), priority (RFC 4412), early media
    /// (RFC 5009), INFO packages (RFC 6086), session identity (RFC 7989), and what responses explain themselves with.
    public static let standard: [String] = [
        "p-asserted-identity", "p-preferred-identity", "privacy", "diversion", "history-info", "referred-by",
        "reason", "subject", "priority", "date", "timestamp", "accept", "accept-encoding", "accept-language",
        "allow-events", "event", "content-type", "content-disposition", "content-encoding", "content-language",
        "mime-version", "expires", "min-expires", "warning", "retry-after", "identity", "identity-info",
        "resource-priority", "p-early-media", "recv-info", "info-package", "session-id",
    ]

    /// `standard` and the leg headers (Via, From, To, Contact, ...), which are never the policy's: Patchbay writes
    /// its own on every leg. One set, so a header costs one lookup.
    private static let admittedNames = SIPHeader.NameSet(standard + Relay.legHeaders)

    /// Whether the header may be relayed to the peer.
    public func admits(_ header: SIPHeader) -> Bool {
        mode == .pass || Self.admittedNames.contains(header.name) || allow.matches(header)
    }

    /// Removes what the policy does not admit; returns the names removed, in order (for `--explain`).
    @discardableResult
    public func apply(to message: inout SIPMessage) -> [String] {
        guard mode == .allowList else { return [] }
        var removed: [String] = []
        message.removeHeaders { header in
            guard !admits(header) else { return false }
            removed.append(header.name)
            return true
        }
        return removed
    }

    public var summary: String {
        switch mode {
        case .pass: "pass (every header the adapters leave)"
        case .allowList:
            "allow-list (standard headers" + (allow.isEmpty ? "" : " and " + allow.entries.joined(separator: ", "))
                + "; any other dropped)"
        }
    }
}

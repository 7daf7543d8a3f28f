/// Internal peers are direct SIP connections on the site's own network (IP-PBX, PSTN gateway); external peers are
/// SIP trunks to providers and get stricter treatment by default.
public enum PeerKind: String, Sendable, CaseIterable {
    case `internal`
    case external
}

/// A peer's entry from `patchbay.yaml` as an adapter sees it: plain values only.
public struct PeerConfiguration: Sendable {
    public var name: String
    public var kind: PeerKind
    /// Vendor profile name; plugins offer at least `generic`.
    public var profile: String
    /// The host name or address the peer is reached at, for URIs the adapter writes.
    public var host: String
    public var numbering: NumberingContext
    /// Everything under the peer's `options:` key.
    public var options: [String: OptionValue]

    public init(
        name: String, kind: PeerKind, profile: String, host: String, numbering: NumberingContext,
        options: [String: OptionValue] = [:]
    ) {
        self.name = name
        self.kind = kind
        self.profile = profile
        self.host = host
        self.numbering = numbering
        self.options = options
    }
}

/// A YAML scalar, list or map, without YAML types crossing the plugin boundary.
public enum OptionValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([OptionValue])
    case map([String: OptionValue])

    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m):
            return "{" + m.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// An adapter's refusal of its configuration. `option` is the key under `options:` (or `profile`), so the host can
/// point at the line in the YAML.
public struct PeerOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var option: String?
    public var message: String

    public init(option: String?, _ message: String) {
        self.option = option
        self.message = message
    }

    public var description: String { option.map { "option '\($0)': \(message)" } ?? message }
}

/// Reads a peer's `options:` with typed getters and remembers which keys were read, so that `finish()` can refuse
/// the ones no profile knows (a typo'd option must not pass silently).
public struct PeerOptions {
    private let values: [String: OptionValue]
    private var read: Set<String> = []

    public init(_ values: [String: OptionValue]) { self.values = values }

    public mutating func string(_ key: String) throws -> String? {
        read.insert(key)
        switch values[key] {
        case nil: return nil
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case let v?: throw PeerOptionError(option: key, "expected a string, found \(v)")
        }
    }

    public mutating func bool(_ key: String) throws -> Bool? {
        read.insert(key)
        switch values[key] {
        case nil: return nil
        case .bool(let b)?: return b
        case let v?: throw PeerOptionError(option: key, "expected true or false, found \(v)")
        }
    }

    public mutating func int(_ key: String) throws -> Int? {
        read.insert(key)
        switch values[key] {
        case nil: return nil
        case .int(let i)?: return i
        case let v?: throw PeerOptionError(option: key, "expected an integer, found \(v)")
        }
    }

    public mutating func strings(_ key: String) throws -> [String]? {
        read.insert(key)
        switch values[key] {
        case nil: return nil
        case .string(let s)?: return [s]
        case .list(let l)?:
            return try l.map {
                switch $0 {
                case .string(let s): return s
                case .int(let i): return String(i)
                default: throw PeerOptionError(option: key, "expected a list of strings, found \($0)")
                }
            }
        case let v?: throw PeerOptionError(option: key, "expected a list of strings, found \(v)")
        }
    }

    public mutating func list(_ key: String) throws -> [OptionValue]? {
        read.insert(key)
        switch values[key] {
        case nil: return nil
        case .list(let l)?: return l
        case let v?: throw PeerOptionError(option: key, "expected a list, found \(v)")
        }
    }

    /// One of `allowed`, for options such as a number format.
    public mutating func choice(_ key: String, _ allowed: [String]) throws -> String? {
        guard let s = try string(key) else { return nil }
        guard allowed.contains(s) else {
            throw PeerOptionError(option: key, "'\(s)' is not one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    /// Throws for the first key (alphabetically) that no getter asked for.
    public func finish() throws {
        if let unknown = values.keys.sorted().first(where: { !read.contains($0) }) {
            throw PeerOptionError(
                option: unknown, "unknown option (known here: \(read.sorted().joined(separator: ", ")))")
        }
    }
}

/// A value of bencode, the encoding of rtpengine's ng control protocol: byte strings, integers, lists and
/// dictionaries. Dictionaries keep their pairs in the order given; the encoder writes them sorted by key, as
/// bencode requires.
public enum BencodeValue: Sendable, Equatable {
    case bytes([UInt8])
    case integer(Int)
    case list([BencodeValue])
    case dictionary([(key: String, value: BencodeValue)])

    public static func string(_ s: String) -> BencodeValue { .bytes(Array(s.utf8)) }

    public static func == (a: BencodeValue, b: BencodeValue) -> Bool {
        switch (a, b) {
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.dictionary(let x), .dictionary(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value under `key` of a dictionary.
    public subscript(key: String) -> BencodeValue? {
        guard case .dictionary(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    /// A byte string as text (UTF-8, invalid sequences repaired), or nil for another kind.
    public var text: String? {
        guard case .bytes(let b) = self else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    public var integer: Int? {
        guard case .integer(let i) = self else { return nil }
        return i
    }

    public var list: [BencodeValue]? {
        guard case .list(let l) = self else { return nil }
        return l
    }

    /// The encoding: `4:spam`, `i42e`, `l...e`, `d...e` with keys sorted by their bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    private func encode(into out: inout [UInt8]) {
        switch self {
        case .bytes(let b):
            out += Array(String(b.count).utf8)
            out.append(UInt8(ascii: ":"))
            out += b
        case .integer(let i):
            out.append(UInt8(ascii: "i"))
            out += Array(String(i).utf8)
            out.append(UInt8(ascii: "e"))
        case .list(let items):
            out.append(UInt8(ascii: "l"))
            for item in items { item.encode(into: &out) }
            out.append(UInt8(ascii: "e"))
        case .dictionary(let pairs):
            out.append(UInt8(ascii: "d"))
            for (key, value) in pairs.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }) {
                BencodeValue.string(key).encode(into: &out)
                value.encode(into: &out)
            }
            out.append(UInt8(ascii: "e"))
        }
    }
}

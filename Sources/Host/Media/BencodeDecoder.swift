/// Decodes bencode, bounded: rtpengine's answers are input like any other, so a malformed, truncated, too deep or
/// too large one is an error naming the offset, never a crash or an unbounded allocation.
public struct BencodeDecoder: Sendable {
    /// How deep lists and dictionaries may nest (rtpengine's answers nest about five deep).
    public var maximumDepth = 32
    /// How many values one message may hold in all.
    public var maximumValues = 100_000

    public init() {}

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case truncated(at: Int)
        case unexpected(byte: UInt8, at: Int)
        case badLength(at: Int)
        case badInteger(at: Int)
        case tooDeep(at: Int)
        case tooManyValues
        case trailingBytes(at: Int)
        case keyNotAString(at: Int)

        public var description: String {
            switch self {
            case .truncated(let at): "bencode ends early at byte \(at)"
            case .unexpected(let b, let at): "unexpected byte 0x\(String(b, radix: 16)) at \(at)"
            case .badLength(let at): "bad string length at byte \(at)"
            case .badInteger(let at): "bad integer at byte \(at)"
            case .tooDeep(let at): "nested too deep at byte \(at)"
            case .tooManyValues: "too many values"
            case .trailingBytes(let at): "bytes after the value, from byte \(at)"
            case .keyNotAString(let at): "a dictionary key that is not a string at byte \(at)"
            }
        }
    }

    /// One value filling all of `bytes`.
    public func decode(_ bytes: some Collection<UInt8>) throws(Failure) -> BencodeValue {
        let input = Array(bytes)
        var position = 0
        var count = 0
        let value = try parse(input, &position, depth: 0, count: &count)
        guard position == input.count else { throw .trailingBytes(at: position) }
        return value
    }

    private func parse(_ b: [UInt8], _ i: inout Int, depth: Int, count: inout Int) throws(Failure) -> BencodeValue {
        guard i < b.count else { throw .truncated(at: i) }
        count += 1
        guard count <= maximumValues else { throw .tooManyValues }
        switch b[i] {
        case UInt8(ascii: "i"):
            i += 1
            let start = i
            let value = try integer(b, &i, until: UInt8(ascii: "e"))
            guard i - start > 0 else { throw .badInteger(at: start) }
            i += 1
            return .integer(value)
        case UInt8(ascii: "l"):
            guard depth < maximumDepth else { throw .tooDeep(at: i) }
            i += 1
            var items: [BencodeValue] = []
            while true {
                guard i < b.count else { throw .truncated(at: i) }
                if b[i] == UInt8(ascii: "e") { break }
                items.append(try parse(b, &i, depth: depth + 1, count: &count))
            }
            i += 1
            return .list(items)
        case UInt8(ascii: "d"):
            guard depth < maximumDepth else { throw .tooDeep(at: i) }
            i += 1
            var pairs: [(key: String, value: BencodeValue)] = []
            while true {
                guard i < b.count else { throw .truncated(at: i) }
                if b[i] == UInt8(ascii: "e") { break }
                let keyAt = i
                guard case .bytes(let key) = try parse(b, &i, depth: depth + 1, count: &count) else {
                    throw .keyNotAString(at: keyAt)
                }
                let value = try parse(b, &i, depth: depth + 1, count: &count)
                pairs.append((String(decoding: key, as: UTF8.self), value))
            }
            i += 1
            return .dictionary(pairs)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            let length: Int
            do {
                length = try integer(b, &i, until: UInt8(ascii: ":"))
            } catch {
                if case .badInteger = error { throw .badLength(at: start) }
                throw error
            }
            guard length >= 0, i - start > 0 else { throw .badLength(at: start) }
            i += 1
            guard length <= b.count - i else { throw .truncated(at: b.count) }
            defer { i += length }
            return .bytes(Array(b[i..<(i + length)]))
        default:
            throw .unexpected(byte: b[i], at: i)
        }
    }

    /// Digits (with a leading `-` for an integer) up to `end`, which is left at `i`; no leading zeros but "0".
    private func integer(_ b: [UInt8], _ i: inout Int, until end: UInt8) throws(Failure) -> Int {
        let start = i
        var negative = false
        if i < b.count, b[i] == UInt8(ascii: "-"), end == UInt8(ascii: "e") {
            negative = true
            i += 1
        }
        var value = 0
        var digits = 0
        while i < b.count, b[i] != end {
            guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { throw .unexpected(byte: b[i], at: i) }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b[i] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .badInteger(at: start) }
            value = s
            digits += 1
            i += 1
        }
        guard i < b.count else { throw .truncated(at: i) }
        let first = negative ? start + 1 : start
        if digits > 1, b[first] == UInt8(ascii: "0") { throw .badInteger(at: start) }
        if negative, digits == 0 || value == 0 { throw .badInteger(at: start) }
        return negative ? -value : value
    }
}

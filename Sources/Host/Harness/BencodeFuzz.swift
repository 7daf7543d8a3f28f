import Media

/// The bencode decoder as a fuzz target (`make fuzz-bencode`): any input decodes or fails with an error, never a
/// crash; and what decodes, encoded and decoded again, is the same value, encoded the same way.
public enum BencodeFuzz {
    /// Returns 1 when the input decoded, 0 when it was refused.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Int {
        let decoder = BencodeDecoder()
        guard let value = try? decoder.decode(bytes) else { return 0 }
        let encoded = value.encoded()
        guard let again = try? decoder.decode(encoded) else {
            preconditionFailure("bencode: an encoded value does not decode: \(encoded)")
        }
        precondition(again.encoded() == encoded, "bencode: decode(encode(x)) encodes differently")
        return 1
    }
}

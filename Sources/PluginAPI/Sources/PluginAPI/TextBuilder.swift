/// Builds a String from pieces with one allocation: `build` runs the writing closure twice, once to count the bytes
/// and once to copy them into a String of exactly that size. Appending to a String piece by piece cost about 300
/// instructions per piece (each `+=` checks capacity, uniqueness and ASCII-ness), and URIs and name-addrs are
/// written from eight to twenty pieces for every request a leg sends.
struct TextBuilder {
    private var count = 0
    private let buffer: UnsafeMutableBufferPointer<UInt8>?

    private init(buffer: UnsafeMutableBufferPointer<UInt8>?) {
        self.buffer = buffer
    }

    static func build(_ write: (inout TextBuilder) -> Void) -> String {
        var counter = TextBuilder(buffer: nil)
        write(&counter)
        return String(unsafeUninitializedCapacity: counter.count) { buffer in
            var writer = TextBuilder(buffer: buffer)
            write(&writer)
            return writer.count
        }
    }

    mutating func append<S: StringProtocol>(_ text: S) {
        let utf8 = text.utf8
        guard let buffer else {
            count += utf8.count
            return
        }
        let copied = utf8.withContiguousStorageIfAvailable { source -> Int in
            UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[count...]))
                .copyMemory(from: UnsafeRawBufferPointer(source))
            return source.count
        }
        if let copied {
            count += copied
        } else {
            for byte in utf8 {
                buffer[count] = byte
                count += 1
            }
        }
    }

    /// `;name` or `;name=value`.
    mutating func append(parameter p: SIPParameter) {
        append(";")
        append(p.name)
        if let value = p.value {
            append("=")
            append(value)
        }
    }

    mutating func append(_ number: Int) {
        append(String(number))
    }
}

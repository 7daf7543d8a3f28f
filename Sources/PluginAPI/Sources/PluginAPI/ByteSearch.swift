#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The index of the first `byte` in `b` at or after `start`, found with memchr: the line feeds of every message
/// framed and the lines of every SDP body the house rules read are found this way, not byte by byte.
func firstIndex(of byte: UInt8, in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
    guard start < b.count, let base = b.baseAddress, let p = memchr(base + start, Int32(byte), b.count - start) else {
        return nil
    }
    return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
}

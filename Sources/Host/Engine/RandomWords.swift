import Routing

#if canImport(Glibc)
    import Glibc
#endif

/// Random 64-bit words for the tags, branches and Call-IDs a shard makes, fetched from the kernel's random source
/// 32 at a time.
///
/// `UInt64.random` makes one getrandom system call per word, which was 0.56 % of the event loops' CPU under the
/// bench load. RFC 3261 section 19.3 wants tags cryptographically random, so the words still come from the kernel,
/// not from a generator in the process. Confined to its shard's loop, like everything else in the shard.
struct RandomWords {
    private var words: [UInt64] = []

    package mutating func next() -> UInt64 {
        if words.isEmpty { refill() }
        return words.removeLast()
    }

    private mutating func refill() {
        var fresh = [UInt64](repeating: 0, count: 32)
        #if canImport(Glibc)
            // glibc's arc4random_buf fills the whole buffer from the kernel's random source (it aborts rather than fail).
            fresh.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
        #else
            var system = SystemRandomNumberGenerator()
            for i in fresh.indices { fresh[i] = system.next() }
        #endif
        words = fresh
    }
}

/// SRV's weighted order draws from the same words.
extension RandomWords: RandomNumberGenerator {}

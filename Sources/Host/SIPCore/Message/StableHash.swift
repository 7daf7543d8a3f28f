/// FNV-1a: stable across runs, unlike Swift's seeded Hasher, so the shard a Call-ID picks and the order of a
/// route's weighted targets are reproducible.
public enum StableHash {
    public static func fnv1a(_ s: String) -> UInt64 {
        fnv1a(s.utf8)
    }

    public static func fnv1a<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}

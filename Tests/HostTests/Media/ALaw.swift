import Foundation

/// G.711 A-law (ITU-T G.711), enough for a test to send a tone and to tell a tone from silence in what it
/// receives.
enum ALaw {
    static func encode(_ sample: Int16) -> UInt8 {
        var pcm = Int(sample)
        let sign: Int = pcm >= 0 ? 0x80 : 0
        if pcm < 0 { pcm = -pcm - 1 }
        pcm = min(pcm, 32635)
        var exponent = 7
        var mask = 0x4000
        while exponent > 0, pcm & mask == 0 {
            exponent -= 1
            mask >>= 1
        }
        let mantissa = exponent == 0 ? (pcm >> 4) & 0x0F : (pcm >> (exponent + 3)) & 0x0F
        return UInt8((sign | (exponent << 4) | mantissa) ^ 0x55)
    }

    static func decode(_ byte: UInt8) -> Int16 {
        let value = Int(byte ^ 0x55)
        let exponent = (value >> 4) & 0x07
        let mantissa = value & 0x0F
        var magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1)
        magnitude = min(magnitude, 32767)
        return Int16(value & 0x80 != 0 ? magnitude : -magnitude)
    }

    /// 160 samples (20 ms at 8 kHz) of a `frequency` Hz tone, starting at sample `offset`.
    static func tone(_ frequency: Double, offset: Int) -> [UInt8] {
        (0..<160).map { i in
            let t = Double(offset + i) / 8000
            return encode(Int16(8000 * sin(2 * .pi * frequency * t)))
        }
    }

    /// Root mean square of A-law samples: a tone is in the thousands, silence near zero.
    static func rms(_ bytes: [UInt8]) -> Double {
        guard !bytes.isEmpty else { return 0 }
        let sum = bytes.reduce(0.0) { $0 + Double(decode($1)) * Double(decode($1)) }
        return (sum / Double(bytes.count)).squareRoot()
    }
}

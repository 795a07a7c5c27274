/// IEEE 754 half-precision to Float32 conversion, by bit manipulation (no dependence on
/// `Float16` availability) and through a 65,536-entry table for the dequantization loops.
public enum HalfFloat {
    /// The Float32 value of the half-precision bit pattern `bits`. Exact for every input:
    /// subnormals are normalized, infinities kept, NaN payloads shifted into place
    /// (as numpy's `npy_halfbits_to_floatbits` and F16C hardware do).
    public static func float(fromBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        var mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            if mantissa == 0 { return Float(bitPattern: sign) }  // ±0
            // Subnormal: shift the mantissa up until its leading 1 reaches the implicit bit.
            var e: UInt32 = 113  // 127 - 15 + 1
            while mantissa & 0x0400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            return Float(bitPattern: sign | (e << 23) | ((mantissa & 0x03FF) << 13))
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))  // inf / NaN
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// `float(fromBits:)` for every bit pattern, indexed by the pattern (256 KiB, built once).
    static let table: [Float] = (0 ... UInt16.max).map { float(fromBits: $0) }
}

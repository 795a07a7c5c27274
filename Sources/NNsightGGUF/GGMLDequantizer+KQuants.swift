/// Dequantization of ggml's K-quant super-blocks (256 elements each), bit-exact with gguf-py's
/// `gguf.quants` classes `Q2_K` … `Q6_K` (and so with ggml's `dequantize_row_q*_K`).
///
/// Every element is `scale · Float(q) − min` (Q2_K, Q4_K, Q5_K) or `scale · Float(q)` (Q3_K,
/// Q6_K), where `scale = d · Float(sub-block scale)` and `min = dmin · Float(sub-block min)` are
/// rounded to Float32 first, exactly as numpy evaluates gguf-py's expressions (no fused
/// multiply-add). Layouts, in the order the bytes appear:
///
/// | type | bytes | fields |
/// | --- | --- | --- |
/// | Q2_K | 84  | scales[16] (low nibble scale, high nibble min), qs[64] (2-bit), d, dmin |
/// | Q3_K | 110 | hmask[32] (bit 2, inverted), qs[64] (low 2 bits), scales[12] (6-bit, biased by 32), d |
/// | Q4_K | 144 | d, dmin, scales[12] (8 × 6-bit scale, 8 × 6-bit min), qs[128] (4-bit) |
/// | Q5_K | 176 | d, dmin, scales[12], qh[32] (bit 4), qs[128] (low 4 bits) |
/// | Q6_K | 210 | ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d |
///
/// `d` and `dmin` are IEEE halves. The bit positions below follow gguf-py's reshapes: in each
/// loop, `index` is the element's position in the super-block.
extension GGMLDequantizer {
    static func q2_K(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        withTables(scaleCount: 16) { table, scale, minimum in
            for b in 0 ..< blocks {
                let block = src + b &* 84
                let scales = block.assumingMemoryBound(to: UInt8.self)
                let qs = scales + 16
                let d = half(block + 80, table)
                let dmin = half(block + 82, table)
                for i in 0 ..< 16 {
                    scale[i] = d * Float(scales[i] & 0x0F)
                    minimum[i] = dmin * Float(scales[i] &>> 4)
                }
                let o = out + b &* 256
                // Element (half h, shift s, lane l), index 128h + 32s + l = bits 2s…2s+1 of qs[32h + l].
                for h in 0 ..< 2 {
                    for s in 0 ..< 4 {
                        let base = h &* 128 &+ s &* 32
                        let shift = UInt8(2 &* s)
                        // (A 32-lane loop with the scale looked up per element measured faster
                        // here than two 16-lane halves with hoisted scales.)
                        for l in 0 ..< 32 {
                            let index = base &+ l
                            let q = (qs[h &* 32 &+ l] &>> shift) & 3
                            o[index] = scale[index &>> 4] * Float(q) - minimum[index &>> 4]
                        }
                    }
                }
            }
        }
    }

    static func q3_K(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        withTables(scaleCount: 16) { table, scale, _ in
            for b in 0 ..< blocks {
                let block = src + b &* 110
                let hmask = block.assumingMemoryBound(to: UInt8.self)
                let qs = hmask + 32
                let packed = hmask + 96
                let d = half(block + 108, table)
                // Scale i: low 4 bits from byte i % 8 (low nibble for i < 8, high nibble after),
                // high 2 bits from byte 8 + i % 4 at bit 2 · (i / 4); stored biased by 32.
                for i in 0 ..< 16 {
                    let low = (i < 8 ? packed[i] : packed[i &- 8] &>> 4) & 0x0F
                    let high = (packed[8 &+ (i & 3)] &>> UInt8(2 &* (i &>> 2))) & 0x03
                    scale[i] = d * Float(Int32(low | high &<< 4) &- 32)
                }
                let o = out + b &* 256
                // Element (half h, shift s, lane l): low bits 2s…2s+1 of qs[32h + l]; bit 2 is
                // bit (4h + s) of hmask[l], and a clear bit subtracts 4.
                for h in 0 ..< 2 {
                    for s in 0 ..< 4 {
                        let base = h &* 128 &+ s &* 32
                        let shift = UInt8(2 &* s)
                        let maskShift = UInt8(4 &* h &+ s)
                        for half in 0 ..< 2 {
                            let sc = scale[base &>> 4 &+ half]
                            let q16 = qs + (h &* 32 &+ half &* 16), m16 = hmask + half &* 16
                            let o16 = o + (base &+ half &* 16)
                            for l in 0 ..< 16 {
                                let low = Int32((q16[l] &>> shift) & 3)
                                let high = Int32(((m16[l] &>> maskShift) & 1) ^ 1) &<< 2
                                o16[l] = sc * Float(low &- high)
                            }
                        }
                    }
                }
            }
        }
    }

    static func q4_K(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        withTables(scaleCount: 8) { table, scale, minimum in
            for b in 0 ..< blocks {
                let block = src + b &* 144
                let d = half(block, table)
                let dmin = half(block + 2, table)
                let packed = (block + 4).assumingMemoryBound(to: UInt8.self)
                let qs = packed + 12
                unpackScalesAndMins(packed, d: d, dmin: dmin, scale, minimum)
                let o = out + b &* 256
                // Element (chunk c, nibble n, lane l) = nibble n of qs[32c + l]; sub-block 2c + n.
                for c in 0 ..< 4 {
                    for n in 0 ..< 2 {
                        let sub = c &* 2 &+ n
                        let sc = scale[sub], m = minimum[sub]
                        let shift = UInt8(4 &* n)
                        let o32 = o + sub &* 32
                        for l in 0 ..< 32 {
                            o32[l] = sc * Float((qs[c &* 32 &+ l] &>> shift) & 0x0F) - m
                        }
                    }
                }
            }
        }
    }

    static func q5_K(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        withTables(scaleCount: 8) { table, scale, minimum in
            for b in 0 ..< blocks {
                let block = src + b &* 176
                let d = half(block, table)
                let dmin = half(block + 2, table)
                let packed = (block + 4).assumingMemoryBound(to: UInt8.self)
                let qh = packed + 12
                let qs = qh + 32
                unpackScalesAndMins(packed, d: d, dmin: dmin, scale, minimum)
                let o = out + b &* 256
                // As Q4_K, with bit 4 of sub-block k's element l in bit k of qh[l].
                for c in 0 ..< 4 {
                    for n in 0 ..< 2 {
                        let sub = c &* 2 &+ n
                        let sc = scale[sub], m = minimum[sub]
                        let shift = UInt8(4 &* n)
                        let highShift = UInt8(sub)
                        let o32 = o + sub &* 32
                        for l in 0 ..< 32 {
                            let q = (qs[c &* 32 &+ l] &>> shift) & 0x0F | ((qh[l] &>> highShift) & 1) &<< 4
                            o32[l] = sc * Float(q) - m
                        }
                    }
                }
            }
        }
    }

    static func q6_K(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        withTables(scaleCount: 16) { table, scale, _ in
            for b in 0 ..< blocks {
                let block = src + b &* 210
                let ql = block.assumingMemoryBound(to: UInt8.self)
                let qh = ql + 128
                let scales = UnsafeRawPointer(ql + 192).assumingMemoryBound(to: Int8.self)
                let d = half(block + 208, table)
                for i in 0 ..< 16 {
                    scale[i] = d * Float(scales[i])
                }
                let o = out + b &* 256
                // Element (half h, shift s, lane l), index 128h + 32s + l: low 4 bits are nibble
                // s / 2 of ql[64h + 32(s % 2) + l], high 2 bits are bits 2s…2s+1 of qh[32h + l].
                for h in 0 ..< 2 {
                    for s in 0 ..< 4 {
                        let base = h &* 128 &+ s &* 32
                        let lowByte = h &* 64 &+ (s & 1) &* 32
                        let lowShift = UInt8(4 &* (s &>> 1))
                        let highShift = UInt8(2 &* s)
                        for half in 0 ..< 2 {
                            let sc = scale[base &>> 4 &+ half]
                            let l16 = ql + (lowByte &+ half &* 16), h16 = qh + (h &* 32 &+ half &* 16)
                            let o16 = o + (base &+ half &* 16)
                            for l in 0 ..< 16 {
                                let low = (l16[l] &>> lowShift) & 0x0F
                                let high = (h16[l] &>> highShift) & 0x03
                                o16[l] = sc * Float(Int32(low | high &<< 4) &- 32)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The 6-bit scales and mins of Q4_K and Q5_K, multiplied by `d` and `dmin`. Bytes 0–3 hold
    /// scales 0–3 (low 6 bits) and the top 2 bits of scales 4–7; bytes 4–7 the same for mins;
    /// bytes 8–11 the low 4 bits of scale 4 + j (low nibble) and min 4 + j (high nibble).
    @inline(__always)
    private static func unpackScalesAndMins(
        _ packed: UnsafePointer<UInt8>, d: Float, dmin: Float,
        _ scale: UnsafeMutablePointer<Float>, _ minimum: UnsafeMutablePointer<Float>
    ) {
        for j in 0 ..< 4 {
            scale[j] = d * Float(packed[j] & 0x3F)
            minimum[j] = dmin * Float(packed[4 &+ j] & 0x3F)
            let sc = (packed[8 &+ j] & 0x0F) | ((packed[j] &>> 2) & 0x30)
            let m = (packed[8 &+ j] &>> 4) | ((packed[4 &+ j] &>> 2) & 0x30)
            scale[4 &+ j] = d * Float(sc)
            minimum[4 &+ j] = dmin * Float(m)
        }
    }

    /// Calls `body` with the half-float table and two scratch arrays of `scaleCount` floats.
    @inline(__always)
    private static func withTables(
        scaleCount: Int,
        _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * scaleCount) { scratch in
                let base = scratch.baseAddress!
                body(t.baseAddress!, base, base + scaleCount)
            }
        }
    }
}

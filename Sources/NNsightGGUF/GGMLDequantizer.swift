/// Dequantization of ggml block formats to Float32, bit-exact with gguf-py
/// (`gguf.quants.dequantize`, which matches ggml's reference C code).
///
/// Block layouts (32 elements per block, little-endian):
/// - Q8_0 (34 bytes): f16 scale `d`, 32 × int8 `q`;                 x = Float(q) · d
/// - Q4_0 (18 bytes): f16 `d`, 16 bytes of nibbles;                 x = d · Float(nibble − 8)
/// - Q4_1 (20 bytes): f16 `d`, f16 min `m`, 16 bytes of nibbles;    x = d · Float(nibble) + m
/// - Q5_0 (22 bytes): f16 `d`, 32 high bits `qh`, 16 bytes of nibbles; x = d · Float(q − 16)
/// - Q5_1 (24 bytes): f16 `d`, f16 `m`, `qh`, 16 bytes of nibbles;   x = d · Float(q) + m
///
///   For Q4_x/Q5_x, byte `j` holds element `j` in its low nibble and element `j + 16` in its
///   high nibble; for Q5_x, bit `j` of the little-endian `qh` is bit 4 of element `j`.
///   `d · q + m` is two roundings (no fused multiply-add), as numpy computes it.
/// - Q2_K … Q6_K (256-element super-blocks): see `GGMLDequantizer+KQuants.swift`.
/// - F16: IEEE half; BF16: the high 16 bits of a Float32; F32: copied.
///
/// The loops read through raw pointers with no per-element bounds checks: the caller
/// guarantees `source` holds `count / blockSize` whole blocks (`GGUFFile` validated this
/// against the file size when it parsed the tensor table).
enum GGMLDequantizer {
    static func dequantize(_ type: GGMLType, from source: UnsafeRawBufferPointer,
                           into out: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0, let src = source.baseAddress else { return }
        precondition(source.count >= count / type.blockSize * type.blockByteCount)
        switch type {
        case .f32: out.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        case .f16: f16(src, out, count)
        case .bf16: bf16(src, out, count)
        case .q8_0: q8_0(src, out, count / 32)
        case .q4_0: q4_0(src, out, count / 32)
        case .q4_1: q4_1(src, out, count / 32)
        case .q5_0: q5_0(src, out, count / 32)
        case .q5_1: q5_1(src, out, count / 32)
        case .q2_K: q2_K(src, out, count / 256)
        case .q3_K: q3_K(src, out, count / 256)
        case .q4_K: q4_K(src, out, count / 256)
        case .q5_K: q5_K(src, out, count / 256)
        case .q6_K: q6_K(src, out, count / 256)
        default: preconditionFailure("GGMLDequantizer: \(type) is not dequantizable")
        }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ table: UnsafePointer<Float>) -> Float {
        table[Int(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))]
    }

    private static func f16(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            let table = t.baseAddress!
            for i in 0 ..< count {
                out[i] = half(src + 2 &* i, table)
            }
        }
    }

    private static func bf16(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0 ..< count {
            let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
            out[i] = Float(bitPattern: UInt32(bits) &<< 16)
        }
    }

    private static func q8_0(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            let table = t.baseAddress!
            for b in 0 ..< blocks {
                let block = src + b &* 34
                let d = half(block, table)
                let qs = (block + 2).assumingMemoryBound(to: Int8.self)
                let o = out + b &* 32
                for j in 0 ..< 32 {
                    o[j] = Float(qs[j]) * d
                }
            }
        }
    }

    private static func q4_0(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            let table = t.baseAddress!
            for b in 0 ..< blocks {
                let block = src + b &* 18
                let d = half(block, table)
                let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
                let o = out + b &* 32
                for j in 0 ..< 16 {
                    let byte = qs[j]
                    o[j] = d * Float(Int8(bitPattern: byte & 0x0F) &- 8)
                    o[j &+ 16] = d * Float(Int8(bitPattern: byte &>> 4) &- 8)
                }
            }
        }
    }

    private static func q4_1(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            let table = t.baseAddress!
            for b in 0 ..< blocks {
                let block = src + b &* 20
                let d = half(block, table)
                let m = half(block + 2, table)
                let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
                let o = out + b &* 32
                for j in 0 ..< 16 {
                    let byte = qs[j]
                    o[j] = d * Float(byte & 0x0F) + m
                    o[j &+ 16] = d * Float(byte &>> 4) + m
                }
            }
        }
    }

    private static func q5_0(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            let table = t.baseAddress!
            for b in 0 ..< blocks {
                let block = src + b &* 22
                let d = half(block, table)
                let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
                let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
                let o = out + b &* 32
                for j in 0 ..< 16 {
                    let byte = qs[j]
                    let low = Int32(byte & 0x0F) | Int32((qh &>> UInt32(j)) & 1) &<< 4
                    let high = Int32(byte &>> 4) | Int32((qh &>> UInt32(j &+ 16)) & 1) &<< 4
                    o[j] = d * Float(low &- 16)
                    o[j &+ 16] = d * Float(high &- 16)
                }
            }
        }
    }

    private static func q5_1(_ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        HalfFloat.table.withUnsafeBufferPointer { t in
            let table = t.baseAddress!
            for b in 0 ..< blocks {
                let block = src + b &* 24
                let d = half(block, table)
                let m = half(block + 2, table)
                let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
                let o = out + b &* 32
                for j in 0 ..< 16 {
                    let byte = qs[j]
                    let low = UInt32(byte & 0x0F) | ((qh &>> UInt32(j)) & 1) &<< 4
                    let high = UInt32(byte &>> 4) | ((qh &>> UInt32(j &+ 16)) & 1) &<< 4
                    o[j] = d * Float(low) + m
                    o[j &+ 16] = d * Float(high) + m
                }
            }
        }
    }
}

/// GPT-2's reversible map from bytes to printable characters (`bytes_to_unicode` in Python):
/// printable Latin-1 bytes stand for themselves, the other 68 bytes become U+0100…U+0143,
/// so a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// The character for each byte.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each alphabet character stands for, indexed by scalar value (< 0x144); -1 if none.
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in byteToScalar.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < scalarToByte.count else { return nil }
        let byte = scalarToByte[value]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// The bytes a byte-level token stands for, or nil when one of its characters is not in the alphabet.
    static func bytes(of token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// A string's UTF-8 bytes spelled in the alphabet.
    static func encode(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for byte in text.utf8 { result.append(byteToScalar[Int(byte)]) }
        return String(result)
    }
}

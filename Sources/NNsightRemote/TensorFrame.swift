import Foundation
import NNsightTorch

/// A tensor's dtype and shape, as they travel in a binary frame's header.
public struct TensorHeader: Codable, Sendable, Equatable {
    /// `float32`, `float16`, `bfloat16`, `float64`, `int64`, `int32`, `int16`, `int8`, `uint8`, `bool`.
    public var dtype: String
    public var shape: [Int]
    /// A meta tensor (a scan's value): shape and dtype only, no bytes follow.
    public var meta: Bool?

    public init(dtype: String, shape: [Int], meta: Bool? = nil) {
        self.dtype = dtype
        self.shape = shape
        self.meta = meta
    }
}

/// Encoding and decoding of frames. Text frames hold one JSON ``WireMessage``. A binary frame
/// is `[UInt32 little-endian header length][header: JSON WireMessage with .tensor][raw bytes]`,
/// the raw bytes row-major, little-endian, `shape.product * dtype size` of them.
public enum WireFrame {
    /// The largest rank a tensor frame may have.
    public static let maxRank = 8

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// The JSON text of a message without a tensor.
    public static func text(_ message: WireMessage) -> String {
        if let json = WireMessageJSON.encode(message) { return String(decoding: json, as: UTF8.self) }
        // Encoding a struct of strings, numbers and arrays cannot fail.
        return String(decoding: (try? encoder.encode(message)) ?? Data(), as: UTF8.self)
    }

    /// Decodes a text frame.
    public static func decode(text: String) throws(RemoteError) -> WireMessage {
        var text = text
        if let message = text.withUTF8({ WireMessageJSON.decode(UnsafeRawBufferPointer($0)) }) { return message }
        do {
            return try JSONDecoder().decode(WireMessage.self, from: Data(text.utf8))
        } catch {
            throw RemoteError.protocolError(.malformedFrame, "a text frame is not a valid message: \(error)")
        }
    }

    /// A binary frame carrying `message` and `tensor` (moved to the CPU, made contiguous).
    public static func binary(_ message: WireMessage, tensor: Tensor) throws -> [UInt8] {
        let isMeta = tensor.device == .meta
        // Its bytes are read as they are when it already lies contiguous on the CPU (no copy).
        let host = isMeta || (tensor.device == .cpu && tensor.isContiguous) ? tensor : try tensor.detach().to(device: .cpu).contiguous()
        var message = message
        message.tensor = TensorHeader(dtype: wireName(host.dtype), shape: host.shape, meta: isMeta ? true : nil)
        let header = try WireMessageJSON.encode(message) ?? Array(encoder.encode(message))
        var frame = [UInt8]()
        let byteCount = isMeta ? 0 : host.count * host.dtype.byteCount
        frame.reserveCapacity(4 + header.count + byteCount)
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: header)
        if byteCount > 0 {
            try host.withUnsafeMutableBytes { frame.append(contentsOf: UnsafeRawBufferPointer($0)) }
        }
        return frame
    }

    /// Decodes a binary frame into its message and tensor, checking every length against the
    /// frame's size before reading.
    public static func decode(binary bytes: UnsafeRawBufferPointer) throws(RemoteError) -> (WireMessage, Tensor) {
        guard bytes.count >= 4 else { throw malformed("a binary frame of \(bytes.count) bytes has no header length") }
        let headerLength = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        guard headerLength <= bytes.count - 4 else {
            throw malformed("the header length \(headerLength) exceeds the frame's \(bytes.count - 4) remaining bytes")
        }
        let message: WireMessage
        if let fast = WireMessageJSON.decode(UnsafeRawBufferPointer(rebasing: bytes[4..<(4 + headerLength)])) {
            message = fast
        } else {
            do {
                message = try JSONDecoder().decode(WireMessage.self, from: Data(bytes[4..<(4 + headerLength)]))
            } catch {
                throw malformed("a binary frame's header is not a valid message: \(error)")
            }
        }
        guard let header = message.tensor else { throw malformed("a binary frame's header has no tensor") }
        guard let dtype = dtype(named: header.dtype) else {
            throw malformed("unknown dtype \"\(header.dtype)\"; expected one of \(DType.allCases.map(wireName).joined(separator: ", "))")
        }
        guard header.shape.count <= maxRank, header.shape.allSatisfy({ $0 >= 0 }) else {
            throw malformed("invalid tensor shape \(header.shape) (at most \(maxRank) non-negative sizes)")
        }
        var elements = 1
        for size in header.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw malformed("tensor shape \(header.shape) is too large") }
            elements = product
        }
        let payload = bytes.count - 4 - headerLength
        if header.meta == true {
            guard payload == 0 else { throw malformed("a meta tensor carries no bytes; the frame carries \(payload)") }
            do {
                return (message, try Tensor.empty(header.shape, dtype: dtype, device: .meta))
            } catch {
                throw malformed("the meta tensor could not be built: \(error)")
            }
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, expected == payload else {
            throw malformed("a \(header.dtype) tensor of shape \(header.shape) needs \(overflow ? "too many" : "\(expected)") bytes; the frame carries \(payload)")
        }
        do {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[(4 + headerLength)...])
            return (message, try Tensor(bytes: raw, shape: header.shape, dtype: dtype))
        } catch {
            throw malformed("the tensor could not be built: \(error)")
        }
    }

    private static func malformed(_ text: String) -> RemoteError { .protocolError(.malformedFrame, text) }

    /// The wire name of a dtype.
    public static func wireName(_ dtype: DType) -> String {
        switch dtype {
        case .uint8: "uint8"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .float16: "float16"
        case .float32: "float32"
        case .float64: "float64"
        case .bool: "bool"
        case .bfloat16: "bfloat16"
        }
    }

    public static func dtype(named name: String) -> DType? {
        DType.allCases.first { wireName($0) == name }
    }
}

internal import CNNsightTorch

/// Swift element types that map to a tensor dtype.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int: TensorElement { public static var dtype: DType { .int64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }

extension Tensor {
    /// A tensor holding a copy of `values`, shaped `shape` (default: one dimension).
    /// Python: `torch.tensor(values).reshape(shape)`.
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil, device: Device = .cpu,
                                              requiresGrad: Bool = false) throws(TorchError) {
        let shape = shape ?? [values.count]
        let options = TensorOptions(dtype: T.dtype, device: device, requiresGrad: requiresGrad)
        let handle = try values.withUnsafeBytes { bytes in
            Result { () throws(TorchError) in try Tensor.fromBytes(bytes, shape: shape, options: options) }
        }.get()
        self.init(owning: handle)
    }

    /// A 0-dimensional tensor. Python: `torch.tensor(value)`.
    public convenience init<T: TensorElement>(_ value: T, device: Device = .cpu) throws(TorchError) {
        try self.init([value], shape: [], device: device)
    }

    /// A tensor holding a copy of `bytes`, read as row-major elements of `dtype` shaped `shape`.
    public convenience init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType,
                            device: Device = .cpu) throws(TorchError) {
        self.init(owning: try Tensor.fromBytes(bytes, shape: shape, options: TensorOptions(dtype: dtype, device: device)))
    }

    /// A CPU tensor that views `bytes` without copying. `owner` is kept alive until libtorch
    /// drops the last reference to the memory (for example a memory-mapped checkpoint).
    /// The bytes must stay valid and unchanged while `owner` lives; the tensor must be treated as
    /// read-only if the memory is (clone before writing).
    public convenience init(borrowing bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType,
                            owner: AnyObject) throws(TorchError) {
        try Torch.checkRuntime()
        let expected = try Tensor.byteCount(of: shape, dtype: dtype)
        guard expected == bytes.count else {
            throw TorchError(.value, "shape \(shape) of \(dtype) needs \(expected) bytes, got \(bytes.count)")
        }
        self.init(owning: try Tensor.viewing(bytes, sizes: shape.map { Int64($0) }, dtype: dtype, owner: owner))
    }

    /// The bytes a contiguous tensor of `shape` and `dtype` occupies; a negative size, or a count
    /// past `Int.max` (a corrupt checkpoint header), is a typed error rather than an overflow trap.
    static func byteCount(of shape: [Int], dtype: DType) throws(TorchError) -> Int {
        if let negative = shape.first(where: { $0 < 0 }) {
            throw TorchError(.value, "shape \(shape) has a negative size (\(negative))")
        }
        if shape.contains(0) { return 0 }
        var total = dtype.byteCount
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else { throw TorchError(.value, "shape \(shape) of \(dtype) needs more than \(Int.max) bytes") }
            total = product
        }
        return total
    }

    /// The shim call behind `init(borrowing:shape:dtype:owner:)`, without its Swift-side checks.
    /// `owner` is retained for the tensor's memory and released exactly once: when libtorch drops
    /// the memory, or at once when the call fails.
    static func viewing(_ bytes: UnsafeRawBufferPointer, sizes: [Int64], dtype: DType, owner: AnyObject)
        throws(TorchError) -> ctorch_tensor
    {
        let context = Unmanaged.passRetained(owner).toOpaque()
        var out: ctorch_tensor?
        let status = ctorch_from_blob(UnsafeMutableRawPointer(mutating: bytes.baseAddress), sizes, sizes.count,
                                      dtype.raw, { Unmanaged<AnyObject>.fromOpaque($0!).release() }, context, &out)
        guard status == CTORCH_OK, let out else { throw TorchError.last(status) }
        return out
    }

    private static func fromBytes(_ bytes: UnsafeRawBufferPointer, shape: [Int], options: TensorOptions)
        throws(TorchError) -> ctorch_tensor
    {
        try Torch.checkRuntime()
        let sizes = shape.map { Int64($0) }
        var out: ctorch_tensor?
        let status = ctorch_from_bytes(bytes.baseAddress, bytes.count, sizes, sizes.count, options.raw, &out)
        guard status == CTORCH_OK, let out else { throw TorchError.last(status) }
        return out
    }

    /// Every element in row-major order, converted to `T`. Python: `x.flatten().tolist()`.
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) throws(TorchError) -> [T] {
        let count = self.count
        let capacity = count * T.dtype.byteCount
        var failure: TorchError?
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let status = ctorch_copy_to_buffer(handle, T.dtype.raw, buffer.baseAddress, capacity)
            if status == CTORCH_OK {
                initialized = count
            } else {
                failure = TorchError.last(status)
                initialized = 0
            }
        }
        if let failure { throw failure }
        return values
    }

    /// The value of a one-element tensor. Python: `x.item()`.
    public func item<T: TensorElement>(_ type: T.Type = T.self) throws(TorchError) -> T {
        guard count == 1 else {
            throw TorchError(.other, "a Tensor with \(count) elements cannot be converted to Scalar")
        }
        return try toArray(T.self)[0]
    }

    /// Python: `x.to(dtype)`.
    public func to(_ dtype: DType) throws(TorchError) -> Tensor {
        try produce { ctorch_to_dtype(handle, dtype.raw, $0) }
    }

    /// Python: `x.to(device)`.
    public func to(device: Device) throws(TorchError) -> Tensor {
        try produce { ctorch_to_device(handle, device.raw, $0) }
    }

    /// A deep copy with its own storage. Python: `x.clone()`.
    public func clone() throws(TorchError) -> Tensor { try produce { ctorch_clone(handle, $0) } }

    /// The same storage, cut off from the autograd graph. Python: `x.detach()`.
    public func detach() throws(TorchError) -> Tensor { try produce { ctorch_detach(handle, $0) } }

    /// Python: `x.contiguous()`.
    public func contiguous() throws(TorchError) -> Tensor { try produce { ctorch_contiguous(handle, $0) } }

    /// A 0-dimensional tensor that promotes like a Python number (`x + 1` keeps x's dtype).
    static func number(_ scalar: Scalar) -> Tensor { Tensor(owning: numberHandle(scalar)) }

    private static func numberHandle(_ scalar: Scalar) -> ctorch_tensor {
        var out: ctorch_tensor?
        let status = ctorch_scalar_tensor(scalar.raw, &out)
        guard status == CTORCH_OK, let out else { fatalError("\(TorchError.last(status))") }
        return out
    }
}

/// Number literals stand for Python numbers: `x[0] = 0`, `try x + 1` (no dtype of their own).
extension Tensor: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    public convenience init(integerLiteral value: Int) {
        self.init(owning: Tensor.numberHandle(.int(Int64(value))))
    }

    public convenience init(floatLiteral value: Double) {
        self.init(owning: Tensor.numberHandle(.double(value)))
    }

    public convenience init(booleanLiteral value: Bool) {
        self.init(owning: Tensor.numberHandle(.bool(value)))
    }
}

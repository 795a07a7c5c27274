internal import CNNsightTorch

/// Options shared by the creation functions.
public struct TensorOptions: Sendable, Hashable {
    public var dtype: DType
    public var device: Device
    public var requiresGrad: Bool

    public init(dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false) {
        self.dtype = dtype
        self.device = device
        self.requiresGrad = requiresGrad
    }

    var raw: ctorch_options {
        ctorch_options(dtype: dtype.raw, device: device.raw, requires_grad: requiresGrad)
    }
}

/// Calls a creation function with the shape as a C array, after the runtime check.
@inline(__always)
func create(
    _ shape: [Int], _ body: (UnsafePointer<Int64>?, Int) -> ((UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status)
) throws(TorchError) -> Tensor {
    try Torch.checkRuntime()
    let sizes = shape.map { Int64($0) }
    return try sizes.withUnsafeBufferPointer { buffer throws(TorchError) in
        try produce(body(buffer.baseAddress, buffer.count))
    }
}

extension Tensor {
    /// Python: `torch.zeros(*shape, dtype=, device=)`.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                             requiresGrad: Bool = false) throws(TorchError) -> Tensor {
        let options = TensorOptions(dtype: dtype, device: device, requiresGrad: requiresGrad).raw
        return try create(shape) { sizes, n in { ctorch_zeros(sizes, n, options, $0) } }
    }

    /// Python: `torch.ones(*shape, dtype=, device=)`.
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                            requiresGrad: Bool = false) throws(TorchError) -> Tensor {
        let options = TensorOptions(dtype: dtype, device: device, requiresGrad: requiresGrad).raw
        return try create(shape) { sizes, n in { ctorch_ones(sizes, n, options, $0) } }
    }

    /// Python: `torch.empty(*shape, dtype=, device=)`: uninitialised memory.
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws(TorchError)
        -> Tensor
    {
        let options = TensorOptions(dtype: dtype, device: device).raw
        return try create(shape) { sizes, n in { ctorch_empty(sizes, n, options, $0) } }
    }

    /// Python: `torch.full(shape, value, dtype=, device=)`.
    public static func full(_ shape: [Int], _ value: some ScalarConvertible, dtype: DType = .float32,
                            device: Device = .cpu) throws(TorchError) -> Tensor {
        let options = TensorOptions(dtype: dtype, device: device).raw
        let scalar = value.scalar.raw
        return try create(shape) { sizes, n in { ctorch_full(sizes, n, scalar, options, $0) } }
    }

    /// Python: `torch.rand(*shape, generator=)`: uniform on [0, 1).
    public static func rand(_ shape: [Int], generator: Generator? = nil, dtype: DType = .float32,
                            device: Device = .cpu) throws(TorchError) -> Tensor {
        let options = TensorOptions(dtype: dtype, device: device).raw
        return try Generator.drawing(from: generator) { gen throws(TorchError) in
            try create(shape) { sizes, n in { ctorch_rand(sizes, n, gen, options, $0) } }
        }
    }

    /// Python: `torch.randn(*shape, generator=)`: standard normal.
    public static func randn(_ shape: [Int], generator: Generator? = nil, dtype: DType = .float32,
                             device: Device = .cpu) throws(TorchError) -> Tensor {
        let options = TensorOptions(dtype: dtype, device: device).raw
        return try Generator.drawing(from: generator) { gen throws(TorchError) in
            try create(shape) { sizes, n in { ctorch_randn(sizes, n, gen, options, $0) } }
        }
    }

    /// Python: `torch.randint(low, high, shape, generator=)`.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], generator: Generator? = nil,
                               dtype: DType = .int64, device: Device = .cpu) throws(TorchError) -> Tensor {
        let options = TensorOptions(dtype: dtype, device: device).raw
        return try Generator.drawing(from: generator) { gen throws(TorchError) in
            try create(shape) { sizes, n in { ctorch_randint(Int64(low), Int64(high), sizes, n, gen, options, $0) } }
        }
    }

    /// Python: `torch.arange(start, end, step)`. The dtype follows Python's rule (int64 for
    /// integers, float32 otherwise) unless given.
    public static func arange(_ start: some ScalarConvertible = 0, _ end: some ScalarConvertible,
                              step: some ScalarConvertible = 1, dtype: DType? = nil,
                              device: Device = .cpu) throws(TorchError) -> Tensor {
        try Torch.checkRuntime()
        let isIntegral = [start.scalar, end.scalar, step.scalar].allSatisfy {
            if case .int = $0 { return true } else { return false }
        }
        let options = TensorOptions(dtype: dtype ?? (isIntegral ? .int64 : .float32), device: device).raw
        return try produce { ctorch_arange(start.scalar.raw, end.scalar.raw, step.scalar.raw, options, $0) }
    }

    /// Python: `torch.arange(end)`.
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) throws(TorchError) -> Tensor {
        try arange(0, end, step: 1, dtype: dtype, device: device)
    }

    /// Python: `torch.linspace(start, end, steps)`.
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32,
                                device: Device = .cpu) throws(TorchError) -> Tensor {
        try Torch.checkRuntime()
        let options = TensorOptions(dtype: dtype, device: device).raw
        return try produce { ctorch_linspace(start, end, Int64(steps), options, $0) }
    }

    /// Python: `torch.eye(n, m)`.
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .cpu)
        throws(TorchError) -> Tensor
    {
        try Torch.checkRuntime()
        let options = TensorOptions(dtype: dtype, device: device).raw
        return try produce { ctorch_eye(Int64(n), Int64(m ?? n), options, $0) }
    }

    /// Python: `torch.zeros_like(x)`.
    public func zerosLike() throws(TorchError) -> Tensor { try produce { ctorch_zeros_like(handle, $0) } }
    /// Python: `torch.ones_like(x)`.
    public func onesLike() throws(TorchError) -> Tensor { try produce { ctorch_ones_like(handle, $0) } }
    /// Python: `torch.full_like(x, value)`.
    public func fullLike(_ value: some ScalarConvertible) throws(TorchError) -> Tensor {
        try produce { ctorch_full_like(handle, value.scalar.raw, $0) }
    }
    /// Python: `torch.rand_like(x)`.
    public func randLike(generator: Generator? = nil) throws(TorchError) -> Tensor {
        try Generator.drawing(from: generator) { gen throws(TorchError) in
            try produce { ctorch_rand_like(handle, gen, $0) }
        }
    }
    /// Python: `torch.randn_like(x)`.
    public func randnLike(generator: Generator? = nil) throws(TorchError) -> Tensor {
        try Generator.drawing(from: generator) { gen throws(TorchError) in
            try produce { ctorch_randn_like(handle, gen, $0) }
        }
    }
}

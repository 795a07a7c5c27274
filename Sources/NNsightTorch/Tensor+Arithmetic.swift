internal import CNNsightTorch

typealias UnaryOp = (ctorch_tensor, UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status
typealias BinaryOp = (ctorch_tensor, ctorch_tensor, UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status
typealias ScalarOp = (ctorch_tensor, ctorch_scalar, UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status

@inline(__always)
func unaryOp(_ op: UnaryOp, _ a: Tensor) throws(TorchError) -> Tensor {
    try produce { op(a.handle, $0) }
}

@inline(__always)
func binaryOp(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws(TorchError) -> Tensor {
    try produce { op(a.handle, b.handle, $0) }
}

@inline(__always)
func scalarOp(_ op: ScalarOp, _ a: Tensor, _ s: Scalar) throws(TorchError) -> Tensor {
    try produce { op(a.handle, s.raw, $0) }
}

// MARK: - Operators (broadcasting; Python's + - * / ** % //)

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_add, a, b) }
    public static func + (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_add_scalar, a, b.scalar) }
    public static func + (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_add_scalar, a, b.scalar) }
    public static func + (a: Int, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_add_scalar, b, a.scalar) }
    public static func + (a: Double, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_add_scalar, b, a.scalar) }

    public static func - (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_sub, a, b) }
    public static func - (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_sub_scalar, a, b.scalar) }
    public static func - (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_sub_scalar, a, b.scalar) }
    public static func - (a: Int, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_rsub_scalar, b, a.scalar) }
    public static func - (a: Double, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_rsub_scalar, b, a.scalar) }

    public static func * (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_mul, a, b) }
    public static func * (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_mul_scalar, a, b.scalar) }
    public static func * (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_mul_scalar, a, b.scalar) }
    public static func * (a: Int, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_mul_scalar, b, a.scalar) }
    public static func * (a: Double, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_mul_scalar, b, a.scalar) }

    /// True division, as Python's `/` (integers divide to floats).
    public static func / (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_div, a, b) }
    public static func / (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_div_scalar, a, b.scalar) }
    public static func / (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_div_scalar, a, b.scalar) }
    public static func / (a: Int, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_rdiv_scalar, b, a.scalar) }
    public static func / (a: Double, b: Tensor) throws(TorchError) -> Tensor { try scalarOp(ctorch_rdiv_scalar, b, a.scalar) }

    /// Python: `a % b` (sign of the divisor, as Python's).
    public static func % (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_remainder, a, b) }
    public static func % (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_remainder_scalar, a, b.scalar) }
    public static func % (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_remainder_scalar, a, b.scalar) }

    public static prefix func - (a: Tensor) throws(TorchError) -> Tensor { try unaryOp(ctorch_neg, a) }

    // In place, as Python's `x += y`: the storage every holder sees changes.
    public static func += (a: Tensor, b: Tensor) throws(TorchError) { try a.add_(b) }
    public static func += (a: Tensor, b: Int) throws(TorchError) { try a.add_(b) }
    public static func += (a: Tensor, b: Double) throws(TorchError) { try a.add_(b) }
    public static func -= (a: Tensor, b: Tensor) throws(TorchError) { try a.sub_(b) }
    public static func -= (a: Tensor, b: Int) throws(TorchError) { try a.sub_(b) }
    public static func -= (a: Tensor, b: Double) throws(TorchError) { try a.sub_(b) }
    public static func *= (a: Tensor, b: Tensor) throws(TorchError) { try a.mul_(b) }
    public static func *= (a: Tensor, b: Int) throws(TorchError) { try a.mul_(b) }
    public static func *= (a: Tensor, b: Double) throws(TorchError) { try a.mul_(b) }
    public static func /= (a: Tensor, b: Tensor) throws(TorchError) { try a.div_(b) }
    public static func /= (a: Tensor, b: Int) throws(TorchError) { try a.div_(b) }
    public static func /= (a: Tensor, b: Double) throws(TorchError) { try a.div_(b) }
}

// MARK: - Comparisons and logic (elementwise, like SIMD's .== family)

infix operator .&& : LogicalConjunctionPrecedence
infix operator .|| : LogicalDisjunctionPrecedence

extension Tensor {
    /// Python: `a == b` (elementwise).
    public static func .== (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_eq, a, b) }
    public static func .== (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_eq_scalar, a, b.scalar) }
    public static func .== (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_eq_scalar, a, b.scalar) }
    public static func .!= (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_ne, a, b) }
    public static func .!= (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_ne_scalar, a, b.scalar) }
    public static func .!= (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_ne_scalar, a, b.scalar) }
    public static func .< (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_lt, a, b) }
    public static func .< (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_lt_scalar, a, b.scalar) }
    public static func .< (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_lt_scalar, a, b.scalar) }
    public static func .<= (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_le, a, b) }
    public static func .<= (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_le_scalar, a, b.scalar) }
    public static func .<= (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_le_scalar, a, b.scalar) }
    public static func .> (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_gt, a, b) }
    public static func .> (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_gt_scalar, a, b.scalar) }
    public static func .> (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_gt_scalar, a, b.scalar) }
    public static func .>= (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_ge, a, b) }
    public static func .>= (a: Tensor, b: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_ge_scalar, a, b.scalar) }
    public static func .>= (a: Tensor, b: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_ge_scalar, a, b.scalar) }
    /// Python: `a & b` / `torch.logical_and`.
    public static func .&& (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_logical_and, a, b) }
    /// Python: `a | b` / `torch.logical_or`.
    public static func .|| (a: Tensor, b: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_logical_or, a, b) }

    public func logicalNot() throws(TorchError) -> Tensor { try unaryOp(ctorch_logical_not, self) }
    public func logicalXor(_ other: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_logical_xor, self, other) }
    public func isnan() throws(TorchError) -> Tensor { try unaryOp(ctorch_isnan, self) }
    public func isinf() throws(TorchError) -> Tensor { try unaryOp(ctorch_isinf, self) }

    /// Python: `torch.allclose(a, b, rtol, atol)`.
    public func allclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) throws(TorchError) -> Bool {
        var result = false
        try check(ctorch_allclose(handle, other.handle, rtol, atol, &result))
        return result
    }

    /// Python: `torch.equal(a, b)`: same shape and same values.
    public func equal(_ other: Tensor) throws(TorchError) -> Bool {
        var result = false
        try check(ctorch_equal(handle, other.handle, &result))
        return result
    }

    /// Python: `torch.where(condition, a, b)`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws(TorchError) -> Tensor {
        try produce { ctorch_where(condition.handle, a.handle, b.handle, $0) }
    }
}

// MARK: - Elementwise math

extension Tensor {
    /// Python: `a @ b` / `torch.matmul`.
    public func matmul(_ other: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_matmul, self, other) }
    public func pow(_ exponent: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_pow, self, exponent) }
    public func pow(_ exponent: Double) throws(TorchError) -> Tensor { try scalarOp(ctorch_pow_scalar, self, exponent.scalar) }
    public func pow(_ exponent: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_pow_scalar, self, exponent.scalar) }
    /// Python: `base ** x`.
    public static func pow(_ base: Double, _ exponent: Tensor) throws(TorchError) -> Tensor {
        try scalarOp(ctorch_rpow_scalar, exponent, base.scalar)
    }
    /// Python: `a // b`.
    public func floorDivide(_ other: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_floor_divide, self, other) }
    public func floorDivide(_ other: Int) throws(TorchError) -> Tensor { try scalarOp(ctorch_floor_divide_scalar, self, other.scalar) }
    public func maximum(_ other: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_maximum, self, other) }
    public func minimum(_ other: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_minimum, self, other) }
    public func atan2(_ other: Tensor) throws(TorchError) -> Tensor { try binaryOp(ctorch_atan2, self, other) }

    public func exp() throws(TorchError) -> Tensor { try unaryOp(ctorch_exp, self) }
    public func log() throws(TorchError) -> Tensor { try unaryOp(ctorch_log, self) }
    public func log2() throws(TorchError) -> Tensor { try unaryOp(ctorch_log2, self) }
    public func sqrt() throws(TorchError) -> Tensor { try unaryOp(ctorch_sqrt, self) }
    public func rsqrt() throws(TorchError) -> Tensor { try unaryOp(ctorch_rsqrt, self) }
    public func tanh() throws(TorchError) -> Tensor { try unaryOp(ctorch_tanh, self) }
    public func sin() throws(TorchError) -> Tensor { try unaryOp(ctorch_sin, self) }
    public func cos() throws(TorchError) -> Tensor { try unaryOp(ctorch_cos, self) }
    public func abs() throws(TorchError) -> Tensor { try unaryOp(ctorch_abs, self) }
    public func sigmoid() throws(TorchError) -> Tensor { try unaryOp(ctorch_sigmoid, self) }
    public func erf() throws(TorchError) -> Tensor { try unaryOp(ctorch_erf, self) }
    public func floor() throws(TorchError) -> Tensor { try unaryOp(ctorch_floor, self) }
    public func ceil() throws(TorchError) -> Tensor { try unaryOp(ctorch_ceil, self) }
    public func round() throws(TorchError) -> Tensor { try unaryOp(ctorch_round, self) }
    public func trunc() throws(TorchError) -> Tensor { try unaryOp(ctorch_trunc, self) }
    public func sign() throws(TorchError) -> Tensor { try unaryOp(ctorch_sign, self) }
    public func reciprocal() throws(TorchError) -> Tensor { try unaryOp(ctorch_reciprocal, self) }
    public func square() throws(TorchError) -> Tensor { try unaryOp(ctorch_square, self) }

    /// Python: `x.clamp(min=, max=)`; either bound may be omitted.
    public func clamp(min: Double? = nil, max: Double? = nil) throws(TorchError) -> Tensor {
        let lower = (min ?? 0).scalar.raw, upper = (max ?? 0).scalar.raw
        return try produce { ctorch_clamp(handle, min != nil, lower, max != nil, upper, $0) }
    }
}

// MARK: - In place

extension Tensor {
    /// Python: `x.add_(y)`. Returns `self` for chaining. An `Int` stays integral (`x.add_(10)` on an
    /// int64 tensor), as Python's `int`; a `Double` is a Python `float`.
    @discardableResult public func add_(_ other: Tensor) throws(TorchError) -> Tensor { try check(ctorch_add_(handle, other.handle)); return self }
    @discardableResult public func add_(_ value: Int) throws(TorchError) -> Tensor { try check(ctorch_add_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func add_(_ value: Double) throws(TorchError) -> Tensor { try check(ctorch_add_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func sub_(_ other: Tensor) throws(TorchError) -> Tensor { try check(ctorch_sub_(handle, other.handle)); return self }
    @discardableResult public func sub_(_ value: Int) throws(TorchError) -> Tensor { try check(ctorch_sub_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func sub_(_ value: Double) throws(TorchError) -> Tensor { try check(ctorch_sub_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func mul_(_ other: Tensor) throws(TorchError) -> Tensor { try check(ctorch_mul_(handle, other.handle)); return self }
    @discardableResult public func mul_(_ value: Int) throws(TorchError) -> Tensor { try check(ctorch_mul_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func mul_(_ value: Double) throws(TorchError) -> Tensor { try check(ctorch_mul_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func div_(_ other: Tensor) throws(TorchError) -> Tensor { try check(ctorch_div_(handle, other.handle)); return self }
    @discardableResult public func div_(_ value: Int) throws(TorchError) -> Tensor { try check(ctorch_div_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func div_(_ value: Double) throws(TorchError) -> Tensor { try check(ctorch_div_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func pow_(_ value: Int) throws(TorchError) -> Tensor { try check(ctorch_pow_scalar_(handle, value.scalar.raw)); return self }
    @discardableResult public func pow_(_ value: Double) throws(TorchError) -> Tensor { try check(ctorch_pow_scalar_(handle, value.scalar.raw)); return self }
    /// Python: `x.zero_()`.
    @discardableResult public func zero_() throws(TorchError) -> Tensor { try check(ctorch_zero_(handle)); return self }
    /// Python: `x.fill_(value)`.
    @discardableResult public func fill_(_ value: some ScalarConvertible) throws(TorchError) -> Tensor { try check(ctorch_fill_(handle, value.scalar.raw)); return self }
    /// Python: `x.copy_(source)`: copies (broadcasting, converting) into x's storage.
    @discardableResult public func copy_(_ source: Tensor) throws(TorchError) -> Tensor { try check(ctorch_copy_(handle, source.handle)); return self }
    /// Python: `x.masked_fill_(mask, value)`.
    @discardableResult public func maskedFill_(_ mask: Tensor, _ value: some ScalarConvertible) throws(TorchError) -> Tensor {
        try check(ctorch_masked_fill_(handle, mask.handle, value.scalar.raw)); return self
    }
    /// Python: `x.clamp_(min=, max=)`.
    @discardableResult public func clamp_(min: Double? = nil, max: Double? = nil) throws(TorchError) -> Tensor {
        try check(ctorch_clamp_(handle, min != nil, (min ?? 0).scalar.raw, max != nil, (max ?? 0).scalar.raw)); return self
    }
    /// Python: `x.uniform_(from, to, generator=)`.
    @discardableResult public func uniform_(_ from: Double = 0, _ to: Double = 1, generator: Generator? = nil) throws(TorchError) -> Tensor {
        try Generator.drawing(from: generator) { gen throws(TorchError) in try check(ctorch_uniform_(handle, from, to, gen)) }
        return self
    }
    /// Python: `x.normal_(mean, std, generator=)`.
    @discardableResult public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws(TorchError) -> Tensor {
        try Generator.drawing(from: generator) { gen throws(TorchError) in try check(ctorch_normal_(handle, mean, std, gen)) }
        return self
    }
}

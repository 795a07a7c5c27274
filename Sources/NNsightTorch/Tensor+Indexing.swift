internal import CNNsightTorch

/// One index in a subscript, with Python's meaning.
///
/// | Python            | Swift                                   |
/// |-------------------|-----------------------------------------|
/// | `x[0]`, `x[-1]`   | `x[0]`, `x[-1]`                         |
/// | `x[1:3]`          | `x[1..<3]`                              |
/// | `x[1:]`, `x[:3]`  | `x[1...]`, `x[..<3]`                    |
/// | `x[-3:]`          | `x[(-3)...]`                            |
/// | `x[1:-1]`         | `x[.slice(1, -1)]`                      |
/// | `x[::2]`          | `x[.slice(step: 2)]`                    |
/// | `x[:, 0]`         | `x[.all, 0]`                            |
/// | `x[..., -1]`      | `x[.ellipsis, -1]`                      |
/// | `x[None]`         | `x[.newAxis]`                           |
/// | `x[mask]`, `x[ids]` | `x[mask]`, `x[ids]` (tensors)         |
public struct TensorIndex {
    enum Kind {
        case int(Int)
        case slice(start: Int?, stop: Int?, step: Int)
        case ellipsis
        case newAxis
        case tensor(Tensor)
        case bool(Bool)
    }

    let kind: Kind
}

/// Anything usable inside a tensor subscript.
public protocol TensorIndexConvertible {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { self }
}

extension TensorIndexConvertible where Self == TensorIndex {
    /// Python: `...`.
    public static var ellipsis: TensorIndex { TensorIndex(kind: .ellipsis) }
    /// Python: `None`.
    public static var newAxis: TensorIndex { TensorIndex(kind: .newAxis) }
    /// Python: `:`.
    public static var all: TensorIndex { TensorIndex(kind: .slice(start: nil, stop: nil, step: 1)) }
    /// Python: `start:stop:step`, each part optional; negative bounds count from the end.
    public static func slice(_ start: Int? = nil, _ stop: Int? = nil, step: Int = 1) -> TensorIndex {
        TensorIndex(kind: .slice(start: start, stop: stop, step: step))
    }
}

extension Int: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { TensorIndex(kind: .int(self)) }
}

extension Bool: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { TensorIndex(kind: .bool(self)) }
}

extension Tensor: TensorIndexConvertible {
    public var tensorIndex: TensorIndex { TensorIndex(kind: .tensor(self)) }
}

extension Range: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .slice(lowerBound, upperBound) }
}

extension ClosedRange: TensorIndexConvertible where Bound == Int {
    /// `a...b` includes b; `a...(-1)` runs to the end.
    public var tensorIndex: TensorIndex {
        .slice(lowerBound, upperBound == -1 ? nil : upperBound + 1)
    }
}

extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .slice(lowerBound) }
}

extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .slice(nil, upperBound) }
}

extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .slice(nil, upperBound == -1 ? nil : upperBound + 1) }
}

/// The index list in the shim's form, with the tensors it borrows kept alive during `body`.
func withRawIndices<R>(_ indices: [any TensorIndexConvertible],
                       _ body: (UnsafeBufferPointer<ctorch_tensor_index>) throws(TorchError) -> R) throws(TorchError) -> R {
    var keepAlive: [Tensor] = []
    let raw = indices.map { index -> ctorch_tensor_index in
        var entry = ctorch_tensor_index(kind: CTORCH_INDEX_INT, value: 0, stop: 0, step: 1, has_start: false,
                                        has_stop: false, tensor: nil)
        switch index.tensorIndex.kind {
        case .int(let value):
            entry.value = Int64(value)
        case .slice(let start, let stop, let step):
            entry.kind = CTORCH_INDEX_SLICE
            entry.value = Int64(start ?? 0)
            entry.has_start = start != nil
            entry.stop = Int64(stop ?? 0)
            entry.has_stop = stop != nil
            entry.step = Int64(step)
        case .ellipsis:
            entry.kind = CTORCH_INDEX_ELLIPSIS
        case .newAxis:
            entry.kind = CTORCH_INDEX_NONE
        case .tensor(let tensor):
            entry.kind = CTORCH_INDEX_TENSOR
            entry.tensor = tensor.handle
            keepAlive.append(tensor)
        case .bool(let value):
            entry.kind = CTORCH_INDEX_BOOL
            entry.value = value ? 1 : 0
        }
        return entry
    }
    return try withExtendedLifetime(keepAlive) { () throws(TorchError) in
        try raw.withUnsafeBufferPointer { buffer throws(TorchError) in try body(buffer) }
    }
}

extension Tensor {
    /// Python: `x[indices]`, throwing. Basic indices give a view that shares storage.
    public func index(_ indices: [any TensorIndexConvertible]) throws(TorchError) -> Tensor {
        try withRawIndices(indices) { (raw) throws(TorchError) in
            try produce { ctorch_index(handle, raw.baseAddress, raw.count, $0) }
        }
    }

    /// Python: `x[indices] = value`, throwing; writes into x's storage. A value of another dtype
    /// is converted to x's, and it broadcasts as in Python.
    public func indexPut(_ indices: [any TensorIndexConvertible], _ value: Tensor) throws(TorchError) {
        try withRawIndices(indices) { (raw) throws(TorchError) in
            try check(ctorch_index_put_(handle, raw.baseAddress, raw.count, value.handle))
        }
    }

    /// Python: `x[...]` read and write, e.g. `x[.ellipsis, -1]`, `x[0..., 1..<3] = 0`.
    ///
    /// Swift subscripts cannot throw while also being settable, so a failure is reported to the
    /// installed ``TorchErrorSink`` (traces install one) and the getter returns an undefined
    /// tensor on which every op fails. Outside any sink a failure stops the program with
    /// libtorch's message. Use ``index(_:)`` / ``indexPut(_:_:)`` to get a thrown error instead.
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        get {
            do {
                return try index(indices)
            } catch {
                TorchErrorSink.report(error)
                return Tensor(owning: ctorch_undefined())
            }
        }
        set {
            do {
                try indexPut(indices, newValue)
            } catch {
                TorchErrorSink.report(error)
            }
        }
    }

    /// A 0-dimensional tensor that promotes like a Python number: `x[0] = .scalar(v)`.
    public static func scalar(_ value: some ScalarConvertible) -> Tensor { number(value.scalar) }
}

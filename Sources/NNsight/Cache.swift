import NNsightTorch

/// Every (or the chosen) module's outputs, and optionally inputs, recorded during a run, by
/// path. Values are the ones the model continued with (after interventions), only the rows of
/// the invoke that asked, detached views of the live tensors (no copies). A module called several
/// times keeps every call. Python: `cache = tracer.cache(...)`.
///
/// ```swift
/// let cache = try model.trace("Hello") { m, t in try t.cache() }
/// let h0 = try cache["model.transformer.h.0"].output        // by path
/// let same = try cache.model.transformer.h[0].output         // envoy-style
/// ```
public final class Cache {
    /// One module's recorded calls.
    public struct Record {
        /// The path, e.g. `model.transformer.h.0`.
        public let path: String
        /// The outputs of its calls, in call order.
        public fileprivate(set) var outputs: [Tensor] = []
        /// The main inputs of its calls (when inputs are cached).
        public fileprivate(set) var inputs: [Tensor] = []

        /// The output of the first call. Python: `cache[path].output`.
        public var output: Tensor {
            get throws {
                guard let first = outputs.first else { throw NNsightError.notCached(path: path + ".output") }
                return first
            }
        }

        /// The main input of the first call.
        public var input: Tensor {
            get throws {
                guard let first = inputs.first else { throw NNsightError.notCached(path: path + ".input") }
                return first
            }
        }
    }

    public let includesInputs: Bool
    public let includesOutputs: Bool
    private var records: [String: Record] = [:]
    /// Paths in the order their first value arrived.
    public private(set) var paths: [String] = []
    weak var tree: EnvoyTree?

    package init(includesInputs: Bool, includesOutputs: Bool, tree: EnvoyTree) {
        self.includesInputs = includesInputs
        self.includesOutputs = includesOutputs
        self.tree = tree
    }

    /// How many modules have values.
    public var count: Int { paths.count }

    /// The record of `path` (`"model.transformer.h.0"`; the leading `model.` may be omitted).
    public subscript(path: String) -> Record {
        get throws {
            let key = path == "model" || path.hasPrefix("model.") ? path : "model." + path
            guard let record = records[key] else { throw NNsightError.notCached(path: key) }
            return record
        }
    }

    /// Envoy-style access from the root: `cache.model.transformer.h[0].output`.
    public var model: CachePath { CachePath(cache: self, envoy: tree?.root) }

    package func record(output: Tensor, at path: String) {
        update(path) { $0.outputs.append(output) }
    }

    package func record(input: Tensor, at path: String) {
        update(path) { $0.inputs.append(input) }
    }

    private func update(_ path: String, _ change: (inout Record) -> Void) {
        if records[path] == nil {
            records[path] = Record(path: path)
            paths.append(path)
        }
        change(&records[path]!)
    }
}

/// A position in a cache's tree, reached like an envoy: `cache.model.transformer.h[-1]`.
@dynamicMemberLookup
public struct CachePath {
    let cache: Cache
    let envoy: Envoy?

    public subscript(dynamicMember name: String) -> CachePath {
        get throws {
            guard let envoy else { throw NNsightError.notCached(path: name) }
            return CachePath(cache: cache, envoy: try envoy.child(named: name))
        }
    }

    public subscript(_ index: Int) -> CachePath {
        get throws {
            guard let envoy else { throw NNsightError.notCached(path: "\(index)") }
            return CachePath(cache: cache, envoy: try envoy[index])
        }
    }

    /// The module's record.
    public var record: Cache.Record { get throws { try cache[envoy?.path ?? "model"] } }
    /// The output of the module's first call.
    public var output: Tensor { get throws { try record.output } }
    /// The main input of the module's first call.
    public var input: Tensor { get throws { try record.input } }
}

extension Tracer {
    /// Starts recording the outputs (and, with `includeInputs`, the inputs) of `modules` (every
    /// module when nil) for this invoke, from the next module call on. Call it inside an invoke,
    /// before reading or changing values. Python: `tracer.cache(modules=, include_inputs=)`.
    public func cache(modules: [Envoy]? = nil, includeInputs: Bool = false, includeOutputs: Bool = true) throws -> Cache {
        guard let mediator = Mediator.current else {
            throw NNsightError.outsideInterleaving(requester: "tracer.cache", action: "create")
        }
        let cache = Cache(includesInputs: includeInputs, includesOutputs: includeOutputs, tree: model.envoys)
        try mediator.interleaver.add(cache, modules: modules ?? model.envoys.root.namedModules().map { $0.envoy }, for: mediator)
        return cache
    }
}

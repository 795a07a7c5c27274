import NNsightTorch

/// The hook point of one operation of a marked function: a module of its own (no parameters,
/// no children), so forward hooks, call counts and everything the intervention engine does with
/// modules work on it unchanged. Its `.input` is the call's first argument (a binding's value),
/// its `.output` the call's result; a pre-hook may replace the input or skip the call.
///
/// Its calls count with its owner's: during the owner's n-th call the operation's `callCount` is
/// n too, so an operation is addressed by the same occurrence (generation step) as its module.
/// Python: `OperationEnvoy`'s hook point (`wrap(fn)`).
public final class SourceOperation: Module {
    /// The operation's name (`self_c_attn_0`).
    public let name: String
    /// The points it belongs to.
    public unowned let scope: SourcePoints
    /// The path errors name; the envoy that wraps it sets its own (`model.h.0.attn.source.x_0`).
    public var path: String
    /// The scope opened by `.source` on this operation (recursive source), if any.
    public private(set) var child: SourcePoints?

    /// Told, instead of the call failing, when a hooked value of this operation is not a tensor
    /// (`isOutput`: its result, else its first argument): a trace that hooked it answers its
    /// requests for that value with `error`, and the call goes on with the value as it is. When
    /// nil, the call fails with `error` (``SourceError/notATensor(path:role:type:)``). Set by the
    /// intervention engine for the length of a trace.
    public var onNonTensor: ((_ isOutput: Bool, _ error: SourceError) throws -> Void)?

    /// The scope the running operation opened, for the marked function it calls.
    @TaskLocal static var openScope: SourcePoints?

    private var lastInput: Tensor?

    init(name: String, scope: SourcePoints) {
        self.name = name
        self.scope = scope
        path = name
        super.init()
    }

    public override var typeName: String { "SourceOperation" }

    /// True when a call must go through ``run(_:)``: a hook is set, or a recursive scope is.
    var needsRun: Bool { hookCount > 0 || child?.isActive == true }

    override func hooksDidChange() { scope.refresh() }

    /// The scope of the marked function this operation calls (made once). Python: `op.source`.
    public func makeChild() -> SourcePoints {
        if let child { return child }
        let made = SourcePoints(listing: nil, owner: self, parent: self)
        child = made
        return made
    }

    /// Its calls count with its owner's: during the owner's n-th call this is its n-th call.
    private func synchronizeCounts() {
        callCount = scope.owner.callCount
        completedCallCount = callCount - 1
    }

    /// Runs `body` with `child` open for the marked function it calls, then finishes.
    func runOpening<T>(_ child: SourcePoints, _ body: () throws -> T) throws -> T {
        synchronizeCounts()   // the operations inside count with this call
        let value: T
        do {
            value = try SourceOperation.$openScope.withValue(child) { try body() }
        } catch let skip as SourceSkip where skip.operation == ObjectIdentifier(self) {
            guard let skipped = skip.output as? T else {
                throw SourceError.wrongType(path: path, role: "skip value", expected: "\(T.self)")
            }
            return try finish(skipped)
        }
        if child.listing == nil { throw SourceError.notMarked(path: path) }
        return try finish(value)
    }

    /// The call returned `output` (or was skipped with it): output hooks see it and may replace it.
    func finish<T>(_ output: T) throws -> T {
        synchronizeCounts()
        defer {
            completedCallCount = callCount
            lastInput = nil
        }
        guard !hooks.post.isEmpty else { return output }
        guard let tensor = output as? Tensor else {
            let error = SourceError.notATensor(path: path, role: "output", type: "\(T.self)")
            guard let onNonTensor else { throw error }
            try onNonTensor(true, error)
            return output
        }
        var value = tensor
        for (_, hook) in hooks.post {
            if let replacement = try hook(self, lastInput ?? tensor, value) { value = replacement }
        }
        guard let back = value as? T else {
            throw SourceError.wrongType(path: path, role: "output", expected: "\(T.self)")
        }
        return back
    }

    /// The call's first argument, once evaluated: input hooks see it, may replace it or skip the call.
    func enter<Argument>(_ argument: Argument) throws -> Argument {
        synchronizeCounts()
        guard !hooks.pre.isEmpty else { return argument }
        guard let tensor = argument as? Tensor else {
            let error = SourceError.notATensor(path: path, role: "input", type: "\(Argument.self)")
            guard let onNonTensor else { throw error }
            try onNonTensor(false, error)
            return argument
        }
        var input = tensor
        for (_, hook) in hooks.pre {
            switch try hook(self, input, ForwardContext()) {
            case .proceed: break
            case .replaceInput(let replacement): input = replacement
            case .skip(let output):
                lastInput = input
                throw SourceSkip(operation: ObjectIdentifier(self), output: output)
            }
        }
        lastInput = input
        guard let back = input as? Argument else {
            throw SourceError.wrongType(path: path, role: "input", expected: "\(Argument.self)")
        }
        return back
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        throw SourceError.notCallable(path: path)
    }
}

/// Unwinds a skipped operation's call to its ``SourceOperation/run(_:)``.
@usableFromInline
struct SourceSkip: Error {
    let operation: ObjectIdentifier
    let output: Tensor
}

/// Errors of `.source`, each naming the operation.
public enum SourceError: Error, CustomStringConvertible, Equatable {
    /// No operation of that name (Python: `AttributeError`).
    case unknownOperation(path: String, name: String, valid: [String])
    /// `.source` on a module that is not marked `@Sourced`.
    case notSourced(path: String)
    /// Recursive `.source` on an operation whose callee never entered a marked function.
    case notMarked(path: String)
    /// Recursive `.source` on an operation that calls a module.
    case sourceOnModule(path: String, module: String)
    /// Recursive `.source` outside a trace.
    case outsideTrace(path: String)
    /// A hooked value that is not a tensor.
    case notATensor(path: String, role: String, type: String)
    /// A replacement of the wrong type.
    case wrongType(path: String, role: String, expected: String)
    /// An operation's envoy called like a module.
    case notCallable(path: String)

    public var description: String {
        switch self {
        case .unknownOperation(let path, let name, let valid):
            return "\(path) has no operation \(name); operations: \(valid.joined(separator: ", "))"
        case .notSourced(let path):
            return "\(path) has no .source: its forward is not marked @Sourced"
        case .notMarked(let path):
            return "\(path).source: the function this operation calls is not marked @Sourced"
        case .sourceOnModule(let path, let module):
            return "Don't call .source on a module (\(module)) from within another .source. Call it directly with: \(module).source (at \(path))"
        case .outsideTrace(let path):
            return "Must be within a trace to use recursive `.source` (on operation `\(path)`)"
        case .notATensor(let path, let role, let type):
            return "\(path): its \(role) is a \(type), not a Tensor; only tensor values can be read or replaced"
        case .wrongType(let path, let role, let expected):
            return "\(path): the \(role) must be a \(expected)"
        case .notCallable(let path):
            return "\(path) is an operation, not a module: it cannot be called"
        }
    }
}

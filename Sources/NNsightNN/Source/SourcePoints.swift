import NNsightTorch

/// The hook points of one marked function in one place: a module's `forward`, or a function
/// called by an operation that a trace opened with `.source` (recursive source).
///
/// The code `@Sourced` generates calls the static methods below, which cost one branch when
/// nothing is hooked (`points` nil or inactive); only operations a trace asked for have an
/// ``SourceOperation`` (a module of its own, so the intervention engine serves it as it serves
/// any module). Used by one thread at a time, like the module it belongs to (the intervention
/// engine hands the model between threads strictly in turn), hence `@unchecked Sendable`.
public final class SourcePoints: @unchecked Sendable {
    /// The listing; nil for a recursive scope whose function has not run yet (it is bound when
    /// the marked function first runs inside the operation, see ``adopt(_:)``).
    public private(set) var listing: SourceListing?
    /// The module or operation these points belong to (their calls count with its calls).
    public unowned let owner: Module
    /// The operation this scope is the recursive source of (nil for a module's forward).
    weak var parent: SourceOperation?
    /// Operations made so far, by name.
    public private(set) var operations: [String: SourceOperation] = [:]
    /// The same, by listing position, once the listing is known.
    private var byIndex: [SourceOperation?] = []
    /// True when some operation here is hooked (or opens a hooked recursive scope).
    @usableFromInline var isActive = false

    init(listing: SourceListing?, owner: Module, parent: SourceOperation?) {
        self.listing = listing
        self.owner = owner
        self.parent = parent
        if let listing { byIndex = Array(repeating: nil, count: listing.operations.count) }
    }

    /// The hook point of operation `name`, made on first use. Throws ``SourceError/unknownOperation(path:name:valid:)``
    /// when the listing is known and has no such operation.
    public func operation(named name: String, path: String) throws -> SourceOperation {
        if let existing = operations[name] { return existing }
        var position: Int?
        if let listing {
            guard let index = listing.index(of: name) else {
                throw SourceError.unknownOperation(path: path, name: name, valid: listing.operations)
            }
            position = index
        }
        let operation = SourceOperation(name: name, scope: self)
        operations[name] = operation
        if let position { byIndex[position] = operation }
        return operation
    }

    /// Recomputes ``isActive`` here and up through the operations that opened this scope.
    func refresh() {
        let active = operations.values.contains { $0.needsRun }
        guard active != isActive else { return }
        isActive = active
        parent?.scope.refresh()
    }

    // MARK: Generated code's entry points

    /// Runs one call operation. `body` is the call itself (an autoclosure, so a skipped
    /// operation never runs). A trace may hook the operation while `body` runs (its arguments
    /// hold operations the trace waits for), so the check is made again afterwards.
    @inlinable @inline(__always)
    public static func call<T>(_ points: SourcePoints?, _ index: Int, _ body: @autoclosure () throws -> T) throws -> T {
        guard let points else { return try body() }
        if points.isActive { return try points.runActive(index, body) }
        let value: T
        do { value = try body() } catch { return try points.recover(index, error) }
        return points.isActive ? try points.finishActive(index, value) : value
    }

    /// Passes the first argument of operation `index` (its `.input`) through its hook point.
    @inlinable @inline(__always)
    public static func enter<Argument>(_ points: SourcePoints?, _ index: Int, _ argument: Argument) throws -> Argument {
        guard let points, points.isActive else { return argument }
        return try points.enterActive(index, argument)
    }

    /// A binding operation (`let h = value`): `value` is both its input and its output.
    @inlinable @inline(__always)
    public static func bind<T>(_ points: SourcePoints?, _ index: Int, _ value: T) throws -> T {
        guard let points, points.isActive else { return value }
        return try points.runActive(index, { try points.enterActive(index, value) })
    }

    /// The scope a marked function that is not a module's `forward` runs in: the one that the
    /// calling operation opened with `.source`, or nil (the usual case: nothing hooked).
    /// Binds that scope to `listing` on the first run, failing with
    /// ``SourceError/unknownOperation(path:name:valid:)`` for a name the function lacks.
    public static func adopt(_ listing: SourceListing) throws -> SourcePoints? {
        guard let points = SourceOperation.openScope, points.isActive || points.listing == nil else { return nil }
        if points.listing == nil { try points.bind(listing) }
        guard points.listing == listing else { return nil }
        return points
    }

    private func bind(_ listing: SourceListing) throws {
        if let unknown = operations.keys.sorted().first(where: { listing.index(of: $0) == nil }) {
            // Forget the names the function lacks, so that the scope works once they are no longer asked for.
            for name in operations.keys where listing.index(of: name) == nil { operations[name] = nil }
            throw SourceError.unknownOperation(path: parent?.path ?? listing.function, name: unknown, valid: listing.operations)
        }
        self.listing = listing
        byIndex = Array(repeating: nil, count: listing.operations.count)
        for (name, operation) in operations { byIndex[listing.index(of: name)!] = operation }
    }

    private func operation(at index: Int) -> SourceOperation? { index < byIndex.count ? byIndex[index] : nil }

    @usableFromInline
    func runActive<T>(_ index: Int, _ body: () throws -> T) throws -> T {
        if let operation = operation(at: index), let child = operation.child, child.isActive {
            return try operation.runOpening(child, body)
        }
        let value: T
        do { value = try body() } catch { return try recover(index, error) }
        return try finishActive(index, value)
    }

    @usableFromInline
    func finishActive<T>(_ index: Int, _ value: T) throws -> T {
        guard let operation = operation(at: index), operation.hookCount > 0 else { return value }
        return try operation.finish(value)
    }

    /// The skip value when `error` is this operation's skip; else `error` again.
    @usableFromInline
    func recover<T>(_ index: Int, _ error: any Error) throws -> T {
        guard let skip = error as? SourceSkip, let operation = operation(at: index),
              skip.operation == ObjectIdentifier(operation)
        else { throw error }
        guard let value = skip.output as? T else {
            throw SourceError.wrongType(path: operation.path, role: "skip value", expected: "\(T.self)")
        }
        return try operation.finish(value)
    }

    @usableFromInline
    func enterActive<Argument>(_ index: Int, _ argument: Argument) throws -> Argument {
        guard let operation = operation(at: index), operation.hookCount > 0 else { return argument }
        return try operation.enter(argument)
    }
}

extension Module {
    /// The hook points of this module's marked `forward` (made once); nil when it is not marked.
    public func makeSourcePoints() -> SourcePoints? {
        if let sourcePoints { return sourcePoints }
        guard let listing = sourceListing else { return nil }
        let points = SourcePoints(listing: listing, owner: self, parent: nil)
        sourcePoints = points
        return points
    }
}

extension Module {
    /// True when a trace hooked any of the operations `names` of this module's marked `forward`
    /// (one flag test when nothing is hooked). Attention layers ask it to choose between the
    /// fused kernel and the explicit path whose scores, pattern and weighted values are
    /// operations of their own.
    public func sourceHooked(_ names: [String]) -> Bool {
        guard let points = sourcePoints, points.isActive else { return false }
        return names.contains { points.operations[$0]?.needsRun == true }
    }
}

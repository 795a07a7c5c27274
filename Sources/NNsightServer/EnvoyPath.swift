import NNsight
import NNsightNN
import NNsightRemote

extension Envoy {
    /// The most operations a client may name in a recursive `.source` scope whose function has
    /// not run yet (its names cannot be checked before it does): the server's envoy tree keeps
    /// every operation envoy made, so a client must not grow it without bound.
    static let unboundOperationLimit = 64

    /// The envoy at a client's path, walked from the root envoy `model`: module names and list
    /// indices (`model.transformer.h.0.attn`), and `.source` operations
    /// (`model.transformer.h.0.attn.source.pattern_0`, recursively
    /// `….source.self_c_attn_0.source.<op>` inside a trace). Anything it cannot name is
    /// `unknownModule`, naming the path and why.
    ///
    /// In a forward shared with other clients (`shared`), a recursive `.source` scope whose
    /// function has not run on this server yet is refused: its names can only be checked when
    /// it runs, inside the model's call, where a wrong name (or a function that is not marked)
    /// would fail the whole batched forward. Once bound, its names are checked here.
    func resolve(wirePath path: String?, shared: Bool = false) throws -> Envoy {
        guard let path, path.count <= 1000 else { throw RemoteError.protocolError(.malformedFrame, "an access without a module path") }
        guard path == "model" || path.hasPrefix("model.") else {
            throw RemoteError.protocolError(.unknownModule, "\"\(path)\": module paths begin with \"model\"")
        }
        var current = self
        var parts = path.split(separator: ".", omittingEmptySubsequences: false).dropFirst().makeIterator()
        do {
            while let part = parts.next() {
                if part == "source", current.module is SourceOperation || !current.children.contains(where: { $0.name == "source" }) {
                    guard let name = parts.next() else { throw ResolveError("\".source\" names no operation") }
                    current = try current.sourceOperation(String(name), shared: shared)
                } else if let number = Int(part) {
                    current = try current[number]
                } else {
                    current = try current.child(named: String(part))
                }
            }
        } catch let error as RemoteError {
            throw error
        } catch {
            throw RemoteError.protocolError(.unknownModule, "\"\(path)\": \(error)")
        }
        return current
    }

    /// The operation `name` of this envoy's `.source`, refusing a name that could not be an
    /// operation's, and new names past ``unboundOperationLimit`` in a scope not yet bound.
    private func sourceOperation(_ name: String, shared: Bool) throws -> Envoy {
        guard (1...200).contains(name.count), name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw ResolveError("\"\(name.prefix(200))\" is not an operation name")
        }
        if let operation = module as? SourceOperation, operation.scope.listing == nil {
            // An operation named in a scope not yet bound opens no scope of its own: unchecked
            // names must not nest (64 at each level would grow the tree without bound).
            throw ResolveError("\(path) belongs to a recursive .source that has not run on the server yet; its .source cannot be opened before it has")
        }
        if let operation = module as? SourceOperation, operation.child?.listing == nil {
            if shared {
                throw ResolveError("the recursive .source of \(path) has not run on the server yet; in a forward shared with other clients only a bound one can be named (run it once in a trace of your own)")
            }
            if let scope = operation.child, scope.operations[name] == nil, scope.operations.count >= Envoy.unboundOperationLimit {
                throw ResolveError("the recursive .source of \(path) has not run yet and already names \(scope.operations.count) operations")
            }
        }
        return try source.operation(name)
    }
}

extension Envoy {
    /// Checks a capture job's path without changing the tree (it may be checked while the model
    /// runs a trace on its own thread): a module, or one operation of a module's `.source`
    /// (`model.transformer.h.0.attn.source.pattern_0`); recursive `.source` needs a trace.
    func checkCapturePath(_ path: String) throws {
        guard path.hasPrefix("model."), path.count <= 1000 else {
            throw RemoteError.protocolError(.unknownModule, "\"\(path.prefix(1000))\" is not a module of the model")
        }
        let parts = path.dropFirst("model.".count).components(separatedBy: ".source.")
        guard parts.count <= 2, let module = try? get(parts[0]) else {
            throw RemoteError.protocolError(.unknownModule, "\"\(path)\" is not a module of the model, nor one operation of a module's .source")
        }
        if parts.count == 2 {
            guard let listing = module.module.sourceListing else {
                throw RemoteError.protocolError(.unknownModule, "\"\(path)\": \(module.path) has no .source (its forward is not marked @Sourced)")
            }
            guard listing.operations.contains(parts[1]) else {
                throw RemoteError.protocolError(.unknownModule, "\"\(path)\": \(module.path).source has no operation \(parts[1]); operations: \(listing.operations.joined(separator: ", "))")
            }
        }
    }
}

private struct ResolveError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import NNsightNN
import Synchronization

/// The envoys of one wrapped model, built once from its module tree, with its aliases.
public final class EnvoyTree {
    /// The envoy of the whole model, path `model`.
    public private(set) var root: Envoy!
    /// Every envoy, indexed by `Envoy.index`.
    package private(set) var all: [Envoy] = []
    /// Single-name aliases (`"mlp": "ff"`: `ff` means `mlp` on every envoy that has an `mlp`).
    private let nameAliases: [String: String]
    /// Path aliases mounted on the root (`"transformer.h": "layers"`: `m.layers` is `m.transformer.h`).
    private let pathAliases: [String: String]
    /// This tree's identity, which envoys and a running trace compare on every access: a number
    /// from a process-wide counter, never reused (an object's address is reused once it is freed,
    /// so an envoy kept past its model could pass for an envoy of a later tree).
    package let identity: UInt64
    private static let identities = Atomic<UInt64>(0)
    /// Held while a trace runs the model: traces of one model from several threads take turns.
    let runLock = NSLock()
    /// Whether an invoke's worker waited long for a module in the last trace (long enough to park):
    /// the next trace then rouses its workers ahead of each awaited module from the start.
    var workersWaitLong = false
    /// The envoys of `.source` operations made so far, by their hook point (SourceEnvoy.swift).
    var operationEnvoys: [ObjectIdentifier: Envoy] = [:]

    /// Adds an envoy made after the tree was built (a `.source` operation's); `make` gets its index.
    func append(_ make: (Int) -> Envoy) -> Envoy {
        let envoy = make(all.count)
        all.append(envoy)
        return envoy
    }

    /// Builds the tree over `module`. `rename` maps real names or dotted paths to aliases
    /// (Python: `NNsight(model, rename={...})`); a leading dot is ignored.
    package init(module: Module, rename: [String: String] = [:]) {
        var names: [String: String] = [:], paths: [String: String] = [:]
        for (key, alias) in rename {
            let key = key.hasPrefix(".") ? String(key.dropFirst()) : key
            if key.contains(".") { paths[alias] = key } else { names[alias] = key }
        }
        nameAliases = names
        pathAliases = paths
        identity = EnvoyTree.identities.add(1, ordering: .relaxed).newValue
        root = build(module, path: "model")
    }

    private func build(_ module: Module, path: String) -> Envoy {
        _ = module.makeSourcePoints()   // before any trace, so a marked forward always finds its hook points
        let children = module.namedChildren.map { (name: $0.name, envoy: build($0.module, path: "\(path).\($0.name)")) }
        let envoy = Envoy(path: path, module: module, tree: self, children: children, index: all.count)
        all.append(envoy)
        return envoy
    }

    func resolveAlias(_ name: String, at envoy: Envoy) -> Envoy? {
        if let real = nameAliases[name], let found = envoy.children.first(where: { $0.name == real }) {
            return found.envoy
        }
        if envoy === root, let target = pathAliases[name] { return try? root.get(target) }
        return nil
    }

    func aliases(at envoy: Envoy) -> [String] {
        let names = nameAliases.filter { alias in envoy.children.contains { $0.name == alias.value } }.map(\.key)
        return (names + (envoy === root ? Array(pathAliases.keys) : [])).sorted()
    }

    /// How a child key prints: `alias/name` when the name has aliases.
    func printedKey(for name: String) -> String {
        let aliases = nameAliases.filter { $0.value == name }.map(\.key).sorted()
        return (aliases + [name]).joined(separator: "/")
    }
}

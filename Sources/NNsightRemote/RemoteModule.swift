import NNsight
import NNsightNN
import NNsightTorch

/// A module of a remote model, on the client: its name, printed type and children, as the
/// server described them at connect. It holds no weights; calling it (`m.lm_head(h)`, the logit
/// lens) inside a remote trace runs the real module on the server.
final class RemoteModule: Module {
    private let printedType: String
    private let extra: String
    private let children: [(name: String, module: Module)]
    private let listing: SourceListing?
    /// The module's path in the envoy tree (`model.lm_head`).
    let path: String

    init(node: ModuleNode, path: String) {
        printedType = node.typeName
        extra = node.extra
        self.path = path
        listing = node.source
        children = node.children.map { ($0.name, RemoteModule.build($0, path: "\(path).\($0.name)")) }
    }

    /// The client-side module for `node`: a `ModuleList` of remote modules where the server has
    /// one (so printing compresses repeated blocks as PyTorch does), a `RemoteModule` otherwise.
    static func build(_ node: ModuleNode, path: String) -> Module {
        if node.typeName == "ModuleList" {
            return ModuleList(node.children.map { RemoteModule(node: $0, path: "\(path).\($0.name)") })
        }
        return RemoteModule(node: node, path: path)
    }

    override var typeName: String { printedType }
    override var extraDescription: String { extra }
    override var namedChildren: [(name: String, module: Module)] { children }
    /// The server module's listing: `.source` prints it and offers its operations, each read and
    /// written on the server like a module's value.
    override var sourceListing: SourceListing? { listing }

    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        guard let invoke = RemoteInvoke.current else {
            throw RemoteError.notAvailableRemotely("calling \(path) outside a remote trace (its weights stay on the server)")
        }
        return try invoke.apply(path: path, to: input)
    }
}

extension ModuleNode {
    /// The description of `module`'s tree.
    public init(describing module: Module, name: String = "") {
        self.init(name: name, typeName: module.typeName, extra: module.extraDescription,
                  children: module.namedChildren.map { ModuleNode(describing: $0.module, name: $0.name) },
                  source: module.sourceListing)
    }
}

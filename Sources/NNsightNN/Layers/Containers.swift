import NNsightTorch

/// Containers whose children are listed, not declared as properties.
protocol ModuleListProtocol {
    var namedElements: [(name: String, module: Module)] { get }
}

/// A list of modules named `0`, `1`, … (`transformer.h.0`). Python: `nn.ModuleList`.
/// Not callable itself: its owner calls the elements.
public final class ModuleList<Element: Module>: Module, ModuleListProtocol, CompressedChildListing, RandomAccessCollection {
    public private(set) var elements: [Element]

    public init(_ elements: [Element]) {
        self.elements = elements
    }

    public override var typeName: String { "ModuleList" }

    var namedElements: [(name: String, module: Module)] { elements.enumerated().map { (String($0.offset), $0.element) } }

    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(position: Int) -> Element { elements[position] }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        throw ModuleError.invalidArgument(module: "ModuleList", message: "a ModuleList is not callable; call its elements")
    }
}

/// Modules applied one after another. Python: `nn.Sequential` (with an `OrderedDict` of names,
/// or numbered `0`, `1`, …).
public final class Sequential: Module, ModuleListProtocol {
    let namedElements: [(name: String, module: Module)]

    public init(_ modules: [Module]) {
        namedElements = modules.enumerated().map { (String($0.offset), $0.element) }
    }

    public init(named modules: [(String, Module)]) {
        namedElements = modules.map { (name: $0.0, module: $0.1) }
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        var x = input
        for (_, module) in namedElements { x = try module(x, context) }
        return x
    }
}

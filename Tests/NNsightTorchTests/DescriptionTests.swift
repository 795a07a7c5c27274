import Testing
@testable import NNsightTorch

/// `description` matches PyTorch's `repr()` (Tests/Fixtures/torch/printing.json).
struct DescriptionTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("printing")
    }

    /// Tensors the generator built by formula rather than storing their values.
    func build(_ recipe: String) throws -> Tensor {
        switch recipe {
        case "arange2000_40x50_div7": return try Tensor.arange(2000, dtype: .float32).reshape(40, 50) / 7
        case "arange1500": return try Tensor.arange(1500)
        case "arange1331_11x11x11": return try Tensor.arange(1331, dtype: .float32).reshape(11, 11, 11)
        case "arange1200_times1e6": return try Tensor.arange(1200, dtype: .float32) * 1e6
        case "requires_grad_1_2": return try Tensor([1, 2] as [Float], requiresGrad: true)
        case "requires_grad_1_2_times2": return try build("requires_grad_1_2") * 2
        case "requires_grad_1_2_times2_sum": return try build("requires_grad_1_2_times2").sum()
        case "meta_2x3": return try Tensor.empty([2, 3], device: .meta)
        case "meta_5": return try Tensor.empty([5], device: .meta)
        case "meta_0d": return try Tensor.empty([], device: .meta)
        case "meta_int_4x2": return try Tensor.empty([4, 2], dtype: .int64, device: .meta)
        case "meta_f16_1": return try Tensor.empty([1], dtype: .float16, device: .meta)
        default:
            Issue.record("unknown recipe \(recipe)")
            return try Tensor.zeros([0])
        }
    }

    @Test(arguments: try Fixture.load("printing").cases.keys.sorted())
    func matchesPyTorchRepr(_ name: String) throws {
        try torchSetUp()
        let entry = try #require(fixture.cases[name])
        let tensor: Tensor
        if case .string(let recipe)? = entry.object["build"] {
            tensor = try build(recipe)
        } else {
            tensor = try FixtureTensor(entry["input"]).tensor()
        }
        #expect(tensor.description == entry["repr"].string, "\(name)")
    }

    @Test func undefinedTensorPrints() throws {
        let sink = TorchErrorSink()
        let x = try Tensor.zeros([2])
        let t = sink.installed { x[5] }
        #expect(sink.errors.count == 1)
        #expect(!t.isDefined)
        #expect(t.description == "tensor(<undefined>)")
    }
}

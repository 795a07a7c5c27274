import Testing
import NNsightTorch
@testable import NNsight

/// Gradients inside traces (nnsight's TestGradients scenarios). Plain autograd on the same
/// tensors is the oracle.
struct GradientTests {
    @Test func testGradAccessAndModify() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let (read, doubled, leafGrad) = try model.trace(x) { m in
            let hidden = try m.layer1.output.requiresGrad_()
            let output = try m.layer2.output
            var read: Tensor!, doubled: Tensor!
            try output.sum().backward { g in
                read = try g.grad(of: hidden).clone()
                try g.setGrad(of: hidden, try g.grad(of: hidden) * 2)
                doubled = try g.grad(of: hidden)
            }
            return (read!, doubled!, hidden.grad)
        }
        // d(sum(layer2(h)))/dh is layer2's weight summed over outputs, for every row.
        let expected = try model.layer2.weight.value.sum(dim: [0]).unsqueeze(0)
        #expect(try maxAbsDifference(read, expected) < 1e-6)
        #expect(try maxAbsDifference(doubled, try expected * 2) < 1e-6)
        // The replaced gradient is what reached the leaf.
        #expect(try maxAbsDifference(try #require(leafGrad), try expected * 2) < 1e-6)
    }

    @Test func testGradientFlowsIntoEarlierGradients() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let inputGrad = try model.trace(x) { m in
            let input = try m.layer1.input.requiresGrad_()
            let hidden = try m.layer1.output
            let output = try m.layer2.output
            try output.sum().backward { g in try g.setGrad(of: hidden, try g.grad(of: hidden).zerosLike()) }
            return input.grad
        }
        #expect(try #require(inputGrad).abs().sum().item(Float.self) == 0)
    }

    @Test func testGradientWrongOrder() throws {
        let model = try makeTiny()
        // layer2's gradient flows before layer1's: it went by while the body waited for layer1's,
        // so the request for it that follows is never served.
        #expect(throws: NNsightError.missed(requester: "gradient of a tensor of shape [1, 2]")) {
            try model.trace(try Tensor.rand([1, 5])) { m in
                let first = try m.layer1.output.requiresGrad_()
                let second = try m.layer2.output
                try second.sum().backward { g in
                    _ = try g.grad(of: first)
                    _ = try g.grad(of: second)
                }
            }
        }
    }

    @Test func testMultiBackwardWithRetainGraph() throws {
        let model = try makeTiny()
        let (a, b) = try model.trace(try Tensor.rand([1, 5])) { m in
            let hidden = try m.layer1.output.requiresGrad_()
            let output = try m.layer2.output
            let a = try output.sum().backward(retainGraph: true) { g in try g.grad(of: hidden).clone() }
            let b = try (output * 2).sum().backward { g in try g.grad(of: hidden).clone() }
            return (a, b)
        }
        #expect(try b.allclose(try a * 2))
    }

    @Test func testStandaloneBackwardOnKeptTensors() throws {
        let model = try makeTiny()
        let (hidden, output) = try model.trace(try Tensor.rand([1, 5])) { m in
            let hidden = try m.layer1.output.requiresGrad_()
            return (hidden, try m.layer2.output)
        }
        let gradient = try output.sum().backward { g in try g.grad(of: hidden) }
        #expect(try maxAbsDifference(gradient, try model.layer2.weight.value.sum(dim: [0]).unsqueeze(0)) < 1e-6)
    }

    @Test func testErrorInBackwardBodyEndsIt() throws {
        struct Refused: Error, Equatable {}
        let model = try makeTiny()
        #expect(throws: Refused()) {
            try model.trace(try Tensor.rand([1, 5])) { m in
                let hidden = try m.layer1.output.requiresGrad_()
                try m.layer2.output.sum().backward { g in
                    _ = try g.grad(of: hidden)
                    throw Refused()
                }
            }
        }
    }
}

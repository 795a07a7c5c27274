import Testing
import NNsightTorch
@testable import NNsightNN

struct HookTests {
    @Test func postHookReadsAndReplacesOutput() throws {
        let fixtures = try Fixtures.modules()
        let tiny = try makeTiny()
        try tiny.load(stateDict: fixtures.tiny.state_dict.mapValues { try $0.tensor() })
        let layer1 = try tiny.layer(named: "layer1")
        var seen: Tensor?
        let handle = layer1.registerForwardHook { _, _, output in
            seen = output
            return try output * 2
        }
        let output = try tiny(try fixtures.tiny.input.tensor())
        #expect(try maxAbsDifference(try #require(seen), try fixtures.tiny.layer1_output.tensor()) < 1e-6)
        #expect(try maxAbsDifference(output, try fixtures.tiny.output_with_layer1_doubled.tensor()) < 1e-5)
        handle.remove()
        #expect(layer1.hookCount == 0)
        let clean = try tiny(try fixtures.tiny.input.tensor())
        #expect(try maxAbsDifference(clean, try fixtures.tiny.output.tensor()) < 1e-6)
    }

    @Test func preHookReplacesInputAndSkipBypassesForward() throws {
        let linear = try Linear(3, 3)
        let x = try Tensor.ones([1, 3])
        let replacement = try Tensor.zeros([1, 3])
        let pre = linear.registerForwardPreHook { _, _, _ in .replaceInput(replacement) }
        // With a zero input the output is the bias.
        #expect(try linear(x).equal(try linear.bias!.value.unsqueeze(0)))
        pre.remove()
        let skipped = try Tensor.full([1, 3], 7)
        var postSawSkip = false
        linear.registerForwardPreHook { _, _, _ in .skip(output: skipped) }
        linear.registerForwardHook { _, _, output in
            postSawSkip = try output.equal(skipped)
            return nil
        }
        #expect(try linear(x).equal(skipped))
        #expect(postSawSkip)
    }

    @Test func hooksRunInRegistrationOrderAndAnErrorPropagates() throws {
        struct Refused: Error {}
        let relu = ReLU()
        var order: [Int] = []
        relu.registerForwardHook { _, _, _ in order.append(1); return nil }
        relu.registerForwardHook { _, _, _ in order.append(2); return nil }
        let failing = relu.registerForwardHook { _, _, _ in throw Refused() }
        #expect(throws: Refused.self) { try relu(try Tensor.ones([2])) }
        #expect(order == [1, 2])
        failing.remove()
        failing.remove()
        #expect(relu.hookCount == 2)
        _ = try relu(try Tensor.ones([2]))
        #expect(order == [1, 2, 1, 2])
    }

    @Test func forwardContextCarriesTypedNamedArguments() throws {
        final class Scale: Module {
            static let factor = ForwardContext.Key<Double>("factor")
            override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
                try input * (context[Scale.factor] ?? 1)
            }
        }
        let context = ForwardContext()
        context[Scale.factor] = 3
        #expect(try Scale()(try Tensor.ones([2]), context).toArray(Float.self) == [3, 3])
        #expect(try Scale()(try Tensor.ones([2])).toArray(Float.self) == [1, 1])
        #expect(context.names == ["factor"])
    }
}

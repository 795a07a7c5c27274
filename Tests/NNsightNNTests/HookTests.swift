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

    @Test func forwardContextCarriesTypedNamedArgumentsAndDerivedState() throws {
        struct Factor: DerivedForwardState {
            let value: Double
            var names: [String] { ["factor"] }
        }
        /// Adds the logits_to_keep argument; scales by the factor its parent derived.
        final class Scale: Module {
            override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
                try input * (context.derived(as: Factor.self)?.value ?? 1) + Double(context.logitsToKeep ?? 0)
            }
        }
        /// Derives a factor from the caller's mask into its own copy of the context.
        final class Parent: Module {
            let scale = Scale()
            var seenByChild: [String] = []
            override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
                var inner = context
                inner.derived = Factor(value: try context.attentionMask?.sum().item(Double.self) ?? 1)
                seenByChild = inner.names
                return try scale(input, inner)
            }
        }
        let context = ForwardContext(attentionMask: try Tensor([1, 1, 1] as [Int64]), logitsToKeep: 2)
        let parent = Parent()
        #expect(try parent(try Tensor.ones([2]), context).toArray(Float.self) == [5, 5])
        #expect(parent.seenByChild == ["attention_mask", "logits_to_keep", "factor"])
        // The caller's context is a value: what the parent derived is not in it.
        #expect(context.derived == nil)
        #expect(context.names == ["attention_mask", "logits_to_keep"])
        #expect(try Scale()(try Tensor.ones([2])).toArray(Float.self) == [1, 1])
    }
}

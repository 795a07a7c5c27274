import Testing
@testable import NNsightTorch

/// Autograd: gradients, hooks, retain_grad, explicit gradients, retained graphs, no-grad
/// (Tests/Fixtures/torch/autograd.json).
struct AutogradTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("autograd")
    }

    @Test func compositeFunctionGradients() throws {
        let c = fixture["composite"]
        let x = try c.input("x").requiresGrad_(), w = try c.input("w").requiresGrad_(), b = try c.input("b").requiresGrad_()
        #expect(x.isLeaf && x.requiresGrad && x.grad == nil)
        let h = try x.matmul(w) + b
        #expect(!h.isLeaf && h.requiresGrad)
        // loss = tanh(h).pow(2).mean() + w.exp().sum() * 0.01 + h.softmax(-1)[:, 0].sum()
        let loss = try h.tanh().pow(2).mean() + (w.exp().sum() * 0.01) + h.softmax(dim: -1)[.all, 0].sum()
        try expectMatches(loss, c.output("loss"), rtol: 1e-5, "loss")
        try loss.backward()
        try expectMatches(try #require(x.grad), c.output("x_grad"), rtol: 1e-5, atol: 1e-6, "x.grad")
        try expectMatches(try #require(w.grad), c.output("w_grad"), rtol: 1e-5, atol: 1e-6, "w.grad")
        try expectMatches(try #require(b.grad), c.output("b_grad"), rtol: 1e-5, atol: 1e-6, "b.grad")
        #expect(h.grad == nil)  // a non-leaf keeps no gradient unless asked
        try x.setGrad(nil)
        #expect(x.grad == nil)
    }

    @Test func hookThatDoublesTheGradientReachesUpstreamLeaves() throws {
        let c = fixture["hook_doubles"]
        let a = try c.input("a").requiresGrad_()
        let m = try a * 3
        var calls = 0
        try m.registerHook { g in calls += 1; return try g * 2 }
        try (m * m).sum().backward()
        #expect(calls == 1)
        try expectMatches(try #require(a.grad), c.output("a_grad"), "a.grad with doubling hook")
        // Removing the hook restores the plain gradient.
        let a2 = try c.input("a").requiresGrad_()
        let m2 = try a2 * 3
        let handle = try m2.registerHook { g in try g * 2 }
        try handle.remove()
        try (m2 * m2).sum().backward()
        try expectMatches(try #require(a2.grad), c.output("a_grad_without_hook"), "hook removed")
    }

    @Test func hookThatReadsALeafGradient() throws {
        let c = fixture["hook_reads_leaf"]
        let leaf = try c.input("c").requiresGrad_()
        var seen: Tensor?
        try leaf.registerHook { g in seen = try g.clone(); return nil }
        try (leaf * leaf * leaf).sum().backward()
        try expectMatches(try #require(seen), c.output("seen"), "gradient the hook saw")
        try expectMatches(try #require(leaf.grad), c.output("c_grad"), "kept gradient")
    }

    @Test func retainGradOnNonLeaf() throws {
        let c = fixture["retain_grad"]
        let r = try c.input("r").requiresGrad_()
        let h = try r.sin()
        try h.retainGrad()
        try (h * r).sum().backward()
        try expectMatches(try #require(h.grad), c.output("h_grad"), "h.grad")
        try expectMatches(try #require(r.grad), c.output("r_grad"), "r.grad")
    }

    @Test func backwardWithExplicitGradient() throws {
        let c = fixture["explicit_gradient"]
        let e = try c.input("e").requiresGrad_()
        let y = try e * e
        #expect(throws: TorchError.self) { try y.backward() }  // non-scalar needs a gradient
        try y.backward(gradient: c.input("g"))
        try expectMatches(try #require(e.grad), c.output("e_grad"), "e.grad")
    }

    @Test func retainGraphSecondBackwardAccumulates() throws {
        let c = fixture["retain_graph"]
        let t = try c.input("t").requiresGrad_()
        let y = try (t * t * t).sum()
        try y.backward(retainGraph: true)
        let first = try #require(t.grad).clone()
        try expectMatches(first, c.output("first"), "first backward")
        try y.backward()
        try expectMatches(try #require(t.grad), c.output("second"), "accumulated")
        // The graph is gone now.
        #expect(throws: TorchError.self) { try y.backward() }
    }

    @Test func gradFunctionNames() throws {
        let names = fixture.cases["grad_fn_names"]!["names"]
        let n = try Tensor([0.5, -1.5] as [Float]).requiresGrad_()
        #expect(n.gradFunctionName == nil)
        #expect(try (n * 2).gradFunctionName == names["mul"].string)
        #expect(try (n + n).gradFunctionName == names["add"].string)
        #expect(try n.sum().gradFunctionName == names["sum"].string)
        #expect(try n.tanh().gradFunctionName == names["tanh"].string)
        #expect(try n.matmul(n).gradFunctionName == names["matmul"].string)
        #expect(n[0].gradFunctionName == names["index"].string)
        #expect(try n.mean().gradFunctionName == names["mean"].string)
        #expect(try n.pow(2).gradFunctionName == names["pow"].string)
    }

    @Test func noGradScope() throws {
        let a = try Tensor([1, 2] as [Float], requiresGrad: true)
        #expect(Torch.isGradEnabled)
        let inside = try Torch.noGrad { () throws(TorchError) -> Tensor in
            #expect(!Torch.isGradEnabled)
            return try a * 2
        }
        #expect(Torch.isGradEnabled)
        #expect(!inside.requiresGrad && inside.gradFunctionName == nil && inside.isLeaf)
        // In-place update of a leaf inside no_grad, as an optimizer step does.
        _ = try Torch.noGrad { () throws(TorchError) in try a.sub_(1.0) }
        #expect(try a.toArray(Float.self) == [0, 1])
        #expect(a.requiresGrad)
        let outside = try a * 2
        #expect(outside.requiresGrad && outside.gradFunctionName != nil)
        let detached = try outside.detach()
        #expect(!detached.requiresGrad && detached.sharesStorage(with: outside))
    }
}

import Testing
@testable import NNsightTorch

/// torch.nn.functional counterparts (Tests/Fixtures/torch/functional.json). Dropout in training
/// mode draws from the global generator and lives in `GlobalSeedTests`.
struct FunctionalTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("functional")
    }

    @Test func linearAndEmbedding() throws {
        var c = fixture["linear"]
        let x = try c.input("x"), w = try c.input("w"), b = try c.input("b")
        try expectMatches(try F.linear(x, weight: w, bias: b), c.output("out"), rtol: 1e-5, "linear")
        try expectMatches(try F.linear(x, weight: w), c.output("nobias"), rtol: 1e-5, "linear without bias")
        c = fixture["embedding"]
        try expectMatches(try F.embedding(c.input("ids"), weight: c.input("weight")), c.output("out"), "embedding")
    }

    @Test func norms() throws {
        var c = fixture["layer_norm"]
        let x = try c.input("x"), w = try c.input("w"), b = try c.input("b")
        try expectMatches(try F.layerNorm(x, normalizedShape: [4], weight: w, bias: b), c.output("affine"),
                          rtol: 1e-5, atol: 1e-5, "layer_norm affine")
        try expectMatches(try F.layerNorm(x, normalizedShape: [4]), c.output("plain"), rtol: 1e-5, atol: 1e-5, "layer_norm")
        try expectMatches(try F.layerNorm(x, normalizedShape: [3, 4], eps: 1e-3), c.output("two_dims"),
                          rtol: 1e-5, atol: 1e-5, "layer_norm over 2 dims")
        c = fixture["rms_norm"]
        try expectMatches(try F.rmsNorm(x, normalizedShape: [4], weight: w, eps: 1e-6), c.output("weight_eps"),
                          rtol: 1e-5, "rms_norm")
        try expectMatches(try F.rmsNorm(x, normalizedShape: [4]), c.output("default_eps"), rtol: 1e-5, "rms_norm eps=None")
        try expectMatches(try F.rmsNorm(x, normalizedShape: [3, 4], eps: 1e-2), c.output("two_dims"), rtol: 1e-5,
                          "rms_norm over 2 dims")
    }

    @Test func activations() throws {
        let c = fixture["activations"]
        let x = try c.input("x")
        try expectMatches(try F.gelu(x), c.output("gelu"), "gelu")
        try expectMatches(try F.gelu(x, approximate: .tanh), c.output("gelu_tanh"), "gelu tanh")
        try expectMatches(try x.gelu(approximate: .tanh), c.output("gelu_tanh"), "x.gelu tanh")
        try expectMatches(try F.silu(x), c.output("silu"), "silu")
        try expectMatches(try x.silu(), c.output("silu"), "x.silu")
        try expectMatches(try F.relu(x), c.output("relu"), "relu")
        try expectMatches(try x.relu(), c.output("relu"), "x.relu")
        try expectMatches(try F.softmax(x, dim: 1), c.output("softmax"), "softmax")
        try expectMatches(try x.sigmoid(), c.output("sigmoid"), "sigmoid")
    }

    @Test func dropoutInEvalModeIsIdentity() throws {
        let c = fixture["dropout"]
        let x = try c.input("x")
        let y = try F.dropout(x, p: 0.5, training: false)
        try expectMatches(y, c.output("eval"), "dropout eval")
    }

    @Test func scaledDotProductAttention() throws {
        let c = fixture["sdpa"]
        let q = try c.input("q"), k = try c.input("k"), v = try c.input("v")
        try expectMatches(try F.scaledDotProductAttention(q, k, v), c.output("plain"), rtol: 1e-5, atol: 1e-6, "sdpa")
        try expectMatches(try F.scaledDotProductAttention(q, k, v, isCausal: true), c.output("causal"),
                          rtol: 1e-5, atol: 1e-6, "sdpa causal")
        try expectMatches(try F.scaledDotProductAttention(q, k, v, mask: c.input("bmask")), c.output("bool_mask"),
                          rtol: 1e-5, atol: 1e-6, "sdpa bool mask")
        try expectMatches(try F.scaledDotProductAttention(q, k, v, mask: c.input("fmask")), c.output("float_mask"),
                          rtol: 1e-5, atol: 1e-6, "sdpa float mask")
        try expectMatches(try F.scaledDotProductAttention(q, k, v, isCausal: true, scale: 0.5), c.output("scale"),
                          rtol: 1e-5, atol: 1e-6, "sdpa scale")
        let k1 = try c.input("k1")
        try expectMatches(try F.scaledDotProductAttention(q, k1, k1, enableGQA: true), c.output("gqa"),
                          rtol: 1e-5, atol: 1e-6, "sdpa gqa")
        // The causal result's first query row sees only the first key, so it equals v's first row.
        let causal = try F.scaledDotProductAttention(q, k, v, isCausal: true)
        #expect(try causal.index([0, 0, 0]).allclose(v.index([0, 0, 0]), rtol: 1e-5, atol: 1e-6))
    }

    @Test func crossEntropy() throws {
        let c = fixture["cross_entropy"]
        let logits = try c.input("logits"), target = try c.input("target")
        try expectMatches(try F.crossEntropy(logits, target), c.output("mean"), rtol: 1e-5, "mean")
        try expectMatches(try F.crossEntropy(logits, target, reduction: .sum), c.output("sum"), rtol: 1e-5, "sum")
        try expectMatches(try F.crossEntropy(logits, target, reduction: .none), c.output("none"), rtol: 1e-5, "none")
        try expectMatches(try F.crossEntropy(logits, c.input("target_ignore")), c.output("ignore"), rtol: 1e-5, "ignore_index")
        try expectMatches(try F.crossEntropy(logits, target, labelSmoothing: 0.1), c.output("smoothing"), rtol: 1e-5,
                          "label smoothing")
    }
}

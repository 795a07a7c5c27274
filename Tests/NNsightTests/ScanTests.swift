import Testing
import NNsightTorch
@testable import NNsight

/// `scan`: shapes and dtypes on the meta device, without weights.
struct ScanTests {
    let prompt = "The capital of France is"

    @Test func testBasicScan() throws {
        let model = try tinyGPT2()
        let (input, output, logits) = try model.scan(prompt) { m in
            (try m.transformer.h[0].attn.input, try m.transformer.h[0].attn.output, try m.lm_head.output)
        }
        #expect(input.shape == [1, 9, 64] && output.shape == [1, 9, 64] && logits.shape == [1, 9, 512])
        #expect(logits.device == .meta && logits.dtype == .float32)
        #expect(!model.isDispatched)
    }

    @Test func testScanWithIntervention() throws {
        let model = try tinyGPT2()
        let output = try model.scan(prompt) { m in
            try m.transformer.h[0].mlp.c_proj.setOutput(try Tensor.ones([1, 1, 64], device: .meta))
            return try m.transformer.h[0].mlp.c_proj.output
        }
        #expect(output.shape == [1, 1, 64])
    }

    @Test func testScanReportsAWrongShapeAsItWouldForReal() throws {
        let model = try tinyGPT2()
        func failure(_ run: () throws -> Void) -> TorchError? {
            do { try run(); return nil } catch { return error as? TorchError }
        }
        let wrong = { (m: Envoy, device: Device) throws -> Void in
            try m.transformer.h[0].setOutput(try Tensor.zeros([1, 9, 32], device: device))
            _ = try m.lm_head.output
        }
        let onMeta = failure { _ = try model.scan(prompt) { m in try wrong(m, .meta) } }
        let forReal = failure { _ = try model.trace(prompt) { m in try wrong(m, .cpu) } }
        #expect(onMeta != nil && forReal != nil)
        #expect(onMeta?.kind == forReal?.kind)
    }
}

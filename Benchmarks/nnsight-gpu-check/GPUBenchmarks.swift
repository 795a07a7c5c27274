import Foundation
import NNsight
import NNsightModels
import NNsightNN
import NNsightTorch

/// Issue 15's GPU benchmarks, in bf16, for the default model's shape (SmolLM2-135M, random
/// weights: its GGUF is larger than what may be sent) and GPT-2 small: prefill of 128 tokens,
/// decode tokens/s at batch 1 and 32, and a trace saving every block against the raw forward.
/// Ratios against transformers use the figures scripts/gpu/bench_transformers.py wrote (same
/// machine, same session, same shapes and token ids).
struct GPUBenchmarks {
    let device: Device
    let referencePath: String?

    static let shapes: [(name: String, config: String)] = [
        ("smollm2-135m", """
         {"model_type": "llama", "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
          "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152, "max_position_embeddings": 8192,
          "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2}
         """),
        ("gpt2-small", """
         {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257, "n_positions": 1024,
          "bos_token_id": 50256, "eos_token_id": 50256}
         """),
    ]

    /// Seconds per call of `body`, the median of `repeats` after `warmup` calls. `body` ends by
    /// reading one value, which waits for the device.
    func time(warmup: Int = 3, repeats: Int = 10, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return samples.sorted()[samples.count / 2]
    }

    func run() throws {
        let reference = try referencePath.map { path -> [String: Double] in
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode([String: Double].self, from: data)
        } ?? [:]
        print("benchmark (bf16 on \(device))            swift        transformers  ratio")
        func report(_ key: String, _ value: Double, unit: String, higherIsBetter: Bool) {
            let line = String(format: "%-38@ %10.4g %@", key as NSString, value, unit as NSString)
            guard let theirs = reference[key] else { print(line + "   (no transformers figure)"); return }
            let ratio = higherIsBetter ? value / theirs : theirs / value
            print(line + String(format: "  %10.4g   %.2fx %@", theirs, ratio, ratio >= 1 ? "(>= transformers)" : "(slower)"))
        }
        for shape in Self.shapes {
            let configuration = try ModelConfiguration(configData: Data(shape.config.utf8))
            try Torch.manualSeed(0)
            let network = try configuration.makeModel(device: device)
            try network.to(.bfloat16)
            // Token ids 1000..<1128, the same as the Python side.
            let prompt = try Tensor(Array(1000..<1128), shape: [1, 128]).to(device: device)
            let prefill = try time {
                _ = try Torch.noGrad { try network(prompt).select(dim: 1, index: 127).sum().item(Double.self) }
            }
            report("\(shape.name) prefill 128 (ms)", prefill * 1000, unit: "ms", higherIsBetter: false)
            for batch in [1, 32] {
                let ids = try Tensor(Array(repeating: Array(1000..<1016), count: batch).flatMap { $0 }, shape: [batch, 16])
                    .to(device: device)
                let options = GenerationOptions(maxNewTokens: 64, eosTokenIds: [])
                let seconds = try time(warmup: 1, repeats: 3) {
                    _ = try NNsightModels.generate(network, inputIds: ids, options: options).sum().item(Double.self)
                }
                report("\(shape.name) decode batch \(batch) (tok/s)", Double(batch * 64) / seconds, unit: "tok/s", higherIsBetter: true)
            }
            let wrapped = NNsightModel<Module>(network)
            let layers = configuration.family.standardNames.layers
            let raw = try time { _ = try Torch.noGrad { try network(prompt).sum().item(Double.self) } }
            let traced = try time {
                let saved = try Torch.noGrad {
                    try wrapped.trace(prompt) { m in
                        let list = try layers.split(separator: ".").reduce(m) { try $0[dynamicMember: String($1)] }
                        return try (0..<network.layerCount).map { try list[$0].output }
                    }
                }
                _ = try saved.last?.sum().item(Double.self)
            }
            print(String(format: "%-38@ %10.4g ms  raw forward %.4g ms  trace/raw %.3fx (target <= 1.02)",
                         "\(shape.name) trace saving every block" as NSString, traced * 1000, raw * 1000, traced / raw))
        }
    }
}

import Foundation
import NNsight
import NNsightRemote
import NNsightNN
import NNsightTorch

/// What the shared scenarios need from a model handle: one trace with one invoke, and one trace
/// with several (a nil prompt opens a prompt-less invoke). A local `LanguageModel` and a
/// `RemoteModel` both conform, so every scenario runs unchanged against both.
protocol ScenarioModel {
    func traceOne<T>(_ prompt: String, _ body: (Envoy) throws -> T) throws -> T
    func traceInvokes(_ invokes: [(prompt: String?, body: (Envoy) throws -> Void)]) throws
    var root: Envoy { get }
}

extension LanguageModel: ScenarioModel {
    func traceOne<T>(_ prompt: String, _ body: (Envoy) throws -> T) throws -> T { try trace(prompt, body) }
    func traceInvokes(_ invokes: [(prompt: String?, body: (Envoy) throws -> Void)]) throws {
        try trace { t in
            for invoke in invokes {
                if let prompt = invoke.prompt { try t.invoke(prompt, invoke.body) } else { try t.invoke(invoke.body) }
            }
        }
    }
}

extension RemoteModel: ScenarioModel {
    func traceOne<T>(_ prompt: String, _ body: (Envoy) throws -> T) throws -> T { try trace(prompt, body) }
    func traceInvokes(_ invokes: [(prompt: String?, body: (Envoy) throws -> Void)]) throws {
        try trace { t in
            for invoke in invokes {
                if let prompt = invoke.prompt { try t.invoke(prompt, invoke.body) } else { try t.invoke(invoke.body) }
            }
        }
    }
}

/// One scenario: a name, and what it computes on a model (tensors to compare, or an error).
struct Scenario: Sendable {
    let name: String
    let run: @Sendable (any ScenarioModel) throws -> [Tensor]
}

/// The interventions of the shared suite, written once.
enum Scenarios {
    static let prompt = "The Eiffel Tower is in"
    static let other = "The Colosseum is in the city of"

    static let all: [Scenario] = [
        Scenario(name: "save") { model in
            try model.traceOne(prompt) { m in [try m.transformer.h[0].output, try m.lm_head.output] }
        },
        Scenario(name: "read input") { model in
            try model.traceOne(prompt) { m in [try m.transformer.h[1].mlp.input, try m.transformer.ln_f.output] }
        },
        Scenario(name: "set output") { model in
            try model.traceOne(prompt) { m in
                let h0 = try m.transformer.h[0].output
                try m.transformer.h[0].setOutput(h0 * 2)
                return [try m.lm_head.output]
            }
        },
        Scenario(name: "set input") { model in
            try model.traceOne(prompt) { m in
                let h0 = try m.transformer.h[0].output
                try m.transformer.h[1].setInput(h0 * 0.5)
                return [try m.lm_head.output]
            }
        },
        Scenario(name: "in-place edit") { model in
            try model.traceOne(prompt) { m in
                try m.transformer.h[0].mlp.output[.ellipsis, 0..<8] = 0
                return [try m.transformer.h[1].output, try m.lm_head.output]
            }
        },
        Scenario(name: "edit of a value read, then read later") { model in
            try model.traceOne(prompt) { m in
                let attention = try m.transformer.h[1].attn.output
                try attention.mulInPlace(3)
                return [try m.lm_head.output]
            }
        },
        Scenario(name: "patch across invokes") { model in
            var clean: Tensor!, patched: Tensor!, corrupted: Tensor!
            try model.traceInvokes([
                (prompt, { m in clean = try m.transformer.h[1].output[0..., -1].clone() }),
                (other, { m in
                    try m.transformer.h[1].output[0..., -1] = clean
                    patched = try m.lm_head.output
                }),
                (other, { m in corrupted = try m.lm_head.output }),
            ])
            return [clean, patched, corrupted]
        },
        Scenario(name: "prompt-less invoke sees the trace's rows") { model in
            var whole: Tensor!, first: Tensor!
            try model.traceInvokes([
                (prompt, { m in first = try m.transformer.h[0].output }),
                (prompt + " Paris", { _ in }),
                (nil, { m in whole = try m.transformer.h[0].output }),
            ])
            return [first, whole]
        },
        Scenario(name: "skip") { model in
            try model.traceOne(prompt) { m in
                let h0 = try m.transformer.h[0].output
                try m.transformer.h[1].skip(h0)
                return [try m.transformer.ln_f.input, try m.lm_head.output]
            }
        },
        Scenario(name: "a skipped module's children do not run (their read is missed)") { model in
            try model.traceOne(prompt) { m in
                let h0 = try m.transformer.h[0].output
                try m.transformer.h[1].skip(h0)
                do {
                    _ = try m.transformer.h[1].mlp.output
                    return []
                } catch let error as NNsightError {
                    return [try Tensor(Array("\(error)".utf8).map(Int.init))]
                }
            }
        },
        Scenario(name: "a skip by one of two invokes is incomplete") { model in
            do {
                try model.traceInvokes([
                    (prompt, { m in try m.transformer.h[1].skip(try m.transformer.h[0].output) }),
                    (other, { m in _ = try m.lm_head.output }),
                ])
                return []
            } catch let error as NNsightError {
                return [try Tensor(Array("\(error)".utf8).map(Int.init))]
            }
        },
        Scenario(name: "source: read operations (pattern, a call's input and output)") { model in
            try model.traceOne(prompt) { m in
                let attention = try m.transformer.h[0].attn.source
                return [try attention.self_c_attn_0.input, try attention.pattern_0.output,
                        try m.transformer.h[1].mlp.source.self_c_fc_0.output, try m.lm_head.output]
            }
        },
        Scenario(name: "source: replace and edit operations") { model in
            try model.traceOne(prompt) { m in
                let attention = try m.transformer.h[0].attn.source
                let pattern = try attention.pattern_0.output
                try attention.pattern_0.setOutput(pattern * 0.5)
                try m.transformer.h[1].mlp.source.self_act_0.output[.ellipsis, 0..<8] = 0
                return [try m.transformer.h[1].output, try m.lm_head.output]
            }
        },
        Scenario(name: "source: recursive source (an operation's marked function)") { model in
            try model.traceOne(prompt) { m in
                [try m.transformer.h[0].attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0.output]
            }
        },
        Scenario(name: "source: printing and an unknown operation") { model in
            let attention = try model.root.transformer.h[0].attn.source
            let unknown: String
            do {
                unknown = try model.traceOne(prompt) { m in "\(try m.transformer.h[0].attn.source.nonexistent_0.output.shape)" }
            } catch let error as SourceError {
                unknown = "\(error)"
            }
            return [try .text(attention.description), try .text("\(try attention.pattern_0)"), try .text(unknown)]
        },
        Scenario(name: "source: an operation whose value is not a tensor fails only that read") { model in
            try model.traceOne(prompt) { m in
                let attention = try m.transformer.h[0].attn.source
                var errors = ""
                for operation in ["qkv_0", "size_0"] {
                    do {
                        _ = try attention.operation(operation).output
                    } catch let error as SourceError {
                        errors += "\(error)\n"
                    }
                }
                return [try .text(errors), try m.lm_head.output]
            }
        },
        Scenario(name: "logit lens (calling envoys)") { model in
            try model.traceOne(prompt) { m in
                let h0 = try m.transformer.h[0].output
                return [try m.lm_head(try m.transformer.ln_f(h0))]
            }
        },
        Scenario(name: "out of order is an engine error") { model in
            do {
                try model.traceOne(prompt) { m in
                    _ = try m.transformer.h[1].output
                    _ = try m.transformer.h[0].output
                }
                return []
            } catch let error as NNsightError {
                // The error's text becomes a tensor of its bytes, compared like any value.
                return [try Tensor(Array("\(error)".utf8).map(Int.init))]
            }
        },
        Scenario(name: "calling a module on a wrong shape is libtorch's error") { model in
            try model.traceOne(prompt) { m in
                do {
                    return [try m.lm_head(try Tensor.zeros([1, 2, 3]))]
                } catch let error as TorchError {
                    return [try Tensor(Array("\(error)".utf8).map(Int.init))]
                }
            }
        },
    ]
}

extension Tensor {
    /// `x *= factor` in place (Python: `x.mul_(factor)`).
    func mulInPlace(_ factor: Double) throws {
        try copy_(self * factor)
    }
}

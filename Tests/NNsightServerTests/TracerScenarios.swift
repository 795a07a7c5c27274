import Foundation
import NNsight
import NNsightRemote
import NNsightTorch

/// One scenario of the tracer suite: what it computes on a model (values, or an error's text).
struct TracerScenario: Sendable {
    let name: String
    let run: @Sendable (any TracerScenarioModel) throws -> [Tensor]
}

/// Generation steps, caches, scans, edits, sessions, stops and barriers, written once and run
/// against a local model and a remote one.
enum TracerScenarios {
    static let prompt = Scenarios.prompt
    static let other = Scenarios.other

    static let generation: [TracerScenario] = [
        TracerScenario(name: "generation: all() reads every step, then the result") { model in
            try model.runOne(.generate(3), prompt) { m, t in
                var values: [Tensor] = []
                for _ in t.all() { values.append(try m.lm_head.output) }
                return values + [try t.result()]
            }
        },
        TracerScenario(name: "generation: .source operations at each step") { model in
            try model.runOne(.generate(3, stopAtEOS: false), prompt) { m, t in
                var values: [Tensor] = []
                for step in t.iter(0..<3) {
                    let pattern = try m.transformer.h[1].attn.source.pattern_0
                    values.append(try pattern.output)
                    if step == 1 { try pattern.setOutput(try pattern.output * 0.5) }
                }
                return values + [try t.result()]
            }
        },
        TracerScenario(name: "generation: iter(1..<3) changes steps 1 and 2 in place") { model in
            try model.runOne(.generate(4), prompt) { m, t in
                for _ in t.iter(1..<3) { try m.transformer.h[0].mlp.output[.ellipsis, 0..<16] = 0 }
                return [try t.result()]
            }
        },
        TracerScenario(name: "generation: iter(2) replaces one step's output") { model in
            try model.runOne(.generate(4), prompt) { m, t in
                var seen: Tensor!
                for _ in t.iter(2) {
                    let h1 = try m.transformer.h[1].output
                    try m.transformer.h[1].setOutput(h1 * 0.25)
                    seen = try m.lm_head.output
                }
                return [seen, try t.result()]
            }
        },
        TracerScenario(name: "generation: tracer.next() and envoy.next() walk the steps") { model in
            try model.runOne(.generate(3), prompt) { m, t in
                let first = try m.lm_head.output
                try t.next(1)
                let second = try m.lm_head.output
                let laterBlock = try m.transformer.h[0].next().output
                return [first, second, laterBlock, try t.result()]
            }
        },
        TracerScenario(name: "generation: iter(1...) without end-of-sequence stop") { model in
            try model.runOne(.generate(3, stopAtEOS: false), prompt) { m, t in
                var values: [Tensor] = []
                for _ in t.iter(1...) { values.append(try m.transformer.ln_f.output) }
                return values + [try t.result()]
            }
        },
        TracerScenario(name: "generation: several prompts (left-padded) and a prompt-less invoke") { model in
            var first: [Tensor] = [], second: Tensor!, whole: Tensor!
            try model.runOpen(.generate(3)) { t, invoke in
                try invoke(prompt) { m in for _ in t.iter(0..<3) { first.append(try m.lm_head.output) } }
                try invoke(other) { _ in second = try t.result() }
                try invoke(nil) { m in for _ in t.iter(1..<2) { whole = try m.transformer.h[0].output } }
            }
            return first + [second, whole]
        },
        TracerScenario(name: "generation: stop() after step 1 keeps what was read") { model in
            var kept: [Tensor] = []
            try model.runOne(.generate(5), prompt) { (m, t) -> Void in
                for step in t.all() {
                    kept.append(try m.lm_head.output)
                    if step == 1 { try t.stop() }
                }
            }
            return kept
        },
        TracerScenario(name: "misuse: a read after all() ended is out of order") { model in
            try valuesOrError {
                try model.runOne(.generate(3), prompt) { m, t in
                    for _ in t.all() { _ = try m.lm_head.output }
                    return [try m.transformer.h[0].output]
                }
            }
        },
        TracerScenario(name: "misuse: an open-ended loop outside generation") { model in
            try valuesOrError {
                try model.runOne(.forward, prompt) { m, t in
                    for _ in t.all() {}
                    return [try m.lm_head.output]
                }
            }
        },
    ]

    static let cacheAndScan: [TracerScenario] = [
        TracerScenario(name: "cache of every module") { model in
            var cache: Cache!
            try model.runOne(.forward, prompt) { (_, t) -> Void in
                cache = try t.cache(modules: nil, includeInputs: false, includeOutputs: true)
            }
            return [try Tensor.text(cache.paths.joined(separator: ",")), try cache["model.transformer.h.0"].output,
                    try cache.model.lm_head.output, try cache["transformer.h.1.mlp"].output]
        },
        TracerScenario(name: "cache of chosen modules with inputs, after an in-place change") { model in
            var cache: Cache!
            try model.runOne(.forward, prompt) { (m, t) -> Void in
                cache = try t.cache(modules: [try m.transformer.h[0], try m.transformer.h[1].mlp], includeInputs: true,
                                    includeOutputs: true)
                try m.transformer.h[0].mlp.output[.ellipsis, 0..<4] = 0
            }
            return [try Tensor.text(cache.paths.joined(separator: ",")), try cache.model.transformer.h[0].input,
                    try cache.model.transformer.h[0].output, try cache["model.transformer.h.1.mlp"].input,
                    try cache["model.transformer.h.1.mlp"].output]
        },
        TracerScenario(name: "cache over generation steps") { model in
            var cache: Cache!
            let ids = try model.runOne(.generate(3), prompt) { m, t in
                cache = try t.cache(modules: [try m.lm_head], includeInputs: false, includeOutputs: true)
                return try t.result()
            }
            return [ids] + (try cache["model.lm_head"].outputs)
        },
        TracerScenario(name: "cache in one invoke of several sees only its rows") { model in
            var cache: Cache!
            try model.runOpen(.forward) { t, invoke in
                try invoke(prompt) { _ in }
                try invoke(other) { m in cache = try t.cache(modules: [try m.transformer.h[1]], includeInputs: false, includeOutputs: true) }
            }
            return [try cache["model.transformer.h.1"].output]
        },
        TracerScenario(name: "misuse: reading a module the cache did not record") { model in
            var cache: Cache!
            try model.runOne(.forward, prompt) { (m, t) -> Void in
                cache = try t.cache(modules: [try m.transformer.h[0]], includeInputs: false, includeOutputs: true)
            }
            return try valuesOrError { [try cache["model.transformer.ln_f"].output] }
        },
        TracerScenario(name: "scan: shapes and dtypes without running the model") { model in
            try model.scanOne(prompt) { m in
                [try m.transformer.h[0].output.shapeAndDType(), try m.transformer.h[1].mlp.input.shapeAndDType(),
                 try m.lm_head.output.shapeAndDType()]
            }
        },
        TracerScenario(name: "scan: writes and module calls on meta values") { model in
            try model.scanOne(prompt) { m in
                let h0 = try m.transformer.h[0].output
                try m.transformer.h[1].setInput(h0 * 2)
                let lens = try m.lm_head(try m.transformer.ln_f(h0))
                return [try lens.shapeAndDType(), try m.lm_head.output.shapeAndDType()]
            }
        },
    ]

    static let editsSessionsBarriers: [TracerScenario] = [
        TracerScenario(name: "edit: a new handle with the edit; the original stays clean") { model in
            let edited = model.edited(inplace: false) { m in try m.transformer.h[0].mlp.output[.ellipsis, 0..<32] = 0 }
            let withEdit = try edited.traceOne(prompt) { m in try m.lm_head.output }
            let clean = try model.traceOne(prompt) { m in try m.lm_head.output }
            let generated = try edited.runOne(.generate(2), prompt) { _, t in try t.result() }
            let scanned = try edited.scanOne(prompt) { m in try m.lm_head.output.shapeAndDType() }
            return [withEdit, clean, generated, scanned]
        },
        TracerScenario(name: "edit: in place on this handle, then cleared") { model in
            _ = model.edited(inplace: true) { m in try m.transformer.h[1].output[.ellipsis, 0..<4] = 1 }
            defer { model.clearAllEdits() }
            let edited = try model.traceOne(prompt) { m in try m.lm_head.output }
            model.clearAllEdits()
            let clean = try model.traceOne(prompt) { m in try m.lm_head.output }
            return [edited, clean]
        },
        TracerScenario(name: "session: a value of one trace patched into the next") { model in
            try model.inSession {
                let clean = try model.traceOne(prompt) { m in try m.transformer.h[1].output[0..., -1].clone() }
                let patched = try model.traceOne(other) { m in
                    try m.transformer.h[1].output[0..., -1] = clean
                    return try m.lm_head.output
                }
                return [clean, patched]
            }
        },
        TracerScenario(name: "barrier: one invoke writes what another read at the same module") { model in
            var embeddings: Tensor!, patched: Tensor!
            try model.runOpen(.forward) { t, invoke in
                let barrier = t.barrier(2)
                try invoke(prompt) { m in
                    embeddings = try m.transformer.wte.output
                    try barrier()
                }
                try invoke(prompt) { m in
                    try barrier()
                    try m.transformer.wte.setOutput(embeddings * 2)
                    patched = try m.lm_head.output
                }
            }
            return [embeddings, patched]
        },
        TracerScenario(name: "stop: a later invoke's read is missed") { model in
            var kept: Tensor!
            let error = try valuesOrError {
                try model.runOpen(.forward) { t, invoke in
                    try invoke(prompt) { m in
                        kept = try m.transformer.h[0].output
                        try t.stop()
                    }
                    try invoke(other) { m in _ = try m.transformer.h[1].output }
                }
                return []
            }
            return [kept] + error
        },
        TracerScenario(name: "stop(returning:) gives the trace's value; later layers never run") { model in
            var reachedLaterLayer = false
            let hidden = try model.runOne(.forward, prompt) { (m, t) -> Tensor in
                try t.stop(returning: try m.transformer.h[0].output * 3)
            }
            let ids = try model.runOne(.generate(4), prompt) { (m, t) -> Tensor in
                for step in t.all() where step == 1 { try t.stop(returning: try m.lm_head.output) }
                reachedLaterLayer = true
                return try t.result()
            }
            return [hidden, ids, try Tensor([reachedLaterLayer ? 1 : 0])]
        },
        TracerScenario(name: "misuse: a barrier that never fills") { model in
            try valuesOrError {
                try model.runOpen(.forward) { t, invoke in
                    let barrier = t.barrier(3)
                    try invoke(prompt) { _ in try barrier() }
                    try invoke(other) { _ in try barrier() }
                }
                return []
            }
        },
        TracerScenario(name: "misuse: result() outside an invoke") { model in
            try valuesOrError {
                try model.runOpen(.forward) { t, invoke in
                    try invoke(prompt) { _ in }
                    _ = try t.result()
                }
                return []
            }
        },
    ]
}

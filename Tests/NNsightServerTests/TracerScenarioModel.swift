import Foundation
import NNsight
import NNsightRemote
import NNsightTorch

/// The tracer operations the shared scenarios use, offered alike by a local `Tracer` and a
/// `RemoteTracer`, so the same closures run against both.
protocol ScenarioTracer {
    func iter(_ steps: Range<Int>) -> StepSequence
    func iter(_ step: Int) -> StepSequence
    func iter(_ steps: PartialRangeFrom<Int>) -> StepSequence
    func all() -> StepSequence
    func next(_ count: Int) throws
    func result() throws -> Tensor
    func cache(modules: [Envoy]?, includeInputs: Bool, includeOutputs: Bool) throws -> Cache
    func barrier(_ count: Int) -> Barrier
    func stop() throws -> Never
    func stop<Value>(returning value: Value) throws -> Never
}

extension Tracer: ScenarioTracer where Model == LanguageModel {}
extension RemoteTracer: ScenarioTracer {}

/// How a scenario runs its model: one forward, or a generation.
struct Run {
    var maxNewTokens: Int? = nil
    var stopAtEOS = true

    static let forward = Run()
    static func generate(_ maxNewTokens: Int, stopAtEOS: Bool = true) -> Run { Run(maxNewTokens: maxNewTokens, stopAtEOS: stopAtEOS) }
}

/// Opens one invoke of an open trace: a prompt (nil: prompt-less) and its closure.
typealias OpenInvoke = (_ prompt: (any PromptConvertible)?, _ body: @escaping (Envoy) throws -> Void) throws -> Void

/// The rest of the model API the shared scenarios need: tracer operations, generation, scan,
/// edits and sessions. A local `LanguageModel` and a `RemoteModel` both conform.
protocol TracerScenarioModel: ScenarioModel {
    /// One invoke over `prompt`, with the tracer.
    func runOne<T>(_ run: Run, _ prompt: String, _ body: (Envoy, any ScenarioTracer) throws -> T) throws -> T
    /// An open trace: `body` gets the tracer and opens the invokes.
    func runOpen(_ run: Run, _ body: (any ScenarioTracer, OpenInvoke) throws -> Void) throws
    func scanOne<T>(_ prompt: String, _ body: (Envoy) throws -> T) throws -> T
    /// A handle with `body` as an edit (`inplace`: this handle).
    func edited(inplace: Bool, _ body: @escaping (Envoy) throws -> Void) -> any TracerScenarioModel
    func clearAllEdits()
    func inSession<T>(_ body: () throws -> T) throws -> T
}

extension LanguageModel: TracerScenarioModel {
    func runOne<T>(_ run: Run, _ prompt: String, _ body: (Envoy, any ScenarioTracer) throws -> T) throws -> T {
        guard let maxNewTokens = run.maxNewTokens else { return try trace(prompt) { m, t in try body(m, t) } }
        return try generate(prompt, maxNewTokens: maxNewTokens, stopAtEOS: run.stopAtEOS) { m, t in try body(m, t) }
    }

    func runOpen(_ run: Run, _ body: (any ScenarioTracer, OpenInvoke) throws -> Void) throws {
        let open: (Tracer<LanguageModel>) throws -> Void = { t in
            try body(t) { prompt, invoke in
                if let prompt { try t.invoke(prompt, invoke) } else { try t.invoke(invoke) }
            }
        }
        if let maxNewTokens = run.maxNewTokens {
            try generate(maxNewTokens: maxNewTokens, stopAtEOS: run.stopAtEOS, open)
        } else {
            try trace(open)
        }
    }

    func scanOne<T>(_ prompt: String, _ body: (Envoy) throws -> T) throws -> T { try scan(prompt, body) }
    func edited(inplace: Bool, _ body: @escaping (Envoy) throws -> Void) -> any TracerScenarioModel { edit(inplace: inplace, body) }
    func clearAllEdits() { clearEdits() }
    func inSession<T>(_ body: () throws -> T) throws -> T { try session(body) }
}

extension RemoteModel: TracerScenarioModel {
    func runOne<T>(_ run: Run, _ prompt: String, _ body: (Envoy, any ScenarioTracer) throws -> T) throws -> T {
        guard let maxNewTokens = run.maxNewTokens else { return try trace(prompt) { m, t in try body(m, t) } }
        return try generate(prompt, maxNewTokens: maxNewTokens, stopAtEOS: run.stopAtEOS) { m, t in try body(m, t) }
    }

    func runOpen(_ run: Run, _ body: (any ScenarioTracer, OpenInvoke) throws -> Void) throws {
        let open: (RemoteTracer) throws -> Void = { t in
            try body(t) { prompt, invoke in
                if let prompt { try t.invoke(prompt, invoke) } else { try t.invoke(invoke) }
            }
        }
        if let maxNewTokens = run.maxNewTokens {
            try generate(maxNewTokens: maxNewTokens, stopAtEOS: run.stopAtEOS, open)
        } else {
            try trace(open)
        }
    }

    func scanOne<T>(_ prompt: String, _ body: (Envoy) throws -> T) throws -> T { try scan(prompt, body) }
    func edited(inplace: Bool, _ body: @escaping (Envoy) throws -> Void) -> any TracerScenarioModel { edit(inplace: inplace, body) }
    func clearAllEdits() { clearEdits() }
    func inSession<T>(_ body: () throws -> T) throws -> T { try session(body) }
}

extension Tensor {
    /// A text (an error's, a list of paths) as a tensor of its bytes, compared like any value.
    static func text(_ text: String) throws -> Tensor { try Tensor(Array(text.utf8).map(Int.init)) }

    /// The shape and dtype of a (meta) tensor as a tensor, compared like any value.
    func shapeAndDType() throws -> Tensor { try Tensor.text("\(shape) \(dtype)") }
}

/// Runs `body` and turns an error into its text (as a tensor), so that a scenario's expected
/// error is compared like a value: the same error type and text remote and local.
func valuesOrError(_ body: () throws -> [Tensor]) throws -> [Tensor] {
    do {
        return try body()
    } catch let error as NNsightError {
        return [try Tensor.text("NNsightError: \(error)")]
    } catch let error as TorchError {
        return [try Tensor.text("TorchError: \(error)")]
    }
}

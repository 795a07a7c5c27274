import Foundation
import Hummingbird
import Logging
import NNsight
import NNsightVisualization

/// The local workbench: a web page over one loaded model. Type a prompt and see its logit lens;
/// patch a source prompt into a target and watch the heatmap fill in layer by layer; pick a layer
/// and head and see its attention pattern; generate and see each token's probability as it comes. Pictures are the ``NNsightVisualization`` ones,
/// streamed to the page as server-sent events. Jobs run one at a time on the model's own thread,
/// so pages in several tabs queue instead of interfering; bad input is answered with a message.
///
/// ```swift
/// let workbench = Workbench(model: try LanguageModel(path: path), modelName: path)
/// try await workbench.run(port: 8080)
/// ```
public final class Workbench: Sendable {
    private let worker: ModelWorker
    private let modelName: String
    private let limits: WorkbenchLimits
    private let logger: Logger

    public init(model: LanguageModel, modelName: String, limits: WorkbenchLimits = WorkbenchLimits(),
                logger: Logger = Logger(label: "nnsight.workbench")) {
        worker = ModelWorker(model: model)
        self.modelName = modelName
        self.limits = limits
        self.logger = logger
    }

    /// Serves on `host`:`port` (0 picks a free port) until the task is cancelled; `onRunning`
    /// gets the port once the server listens.
    public func run(host: String = "127.0.0.1", port: Int = 8080,
                    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        let page = WorkbenchPage.html(modelName: modelName)
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("/lens") { [self] request, _ in
            let prompt = request.uri.queryParameters["prompt"].map(String.init) ?? ""
            logger.info("lens", metadata: ["prompt": "\(prompt)"])
            return eventStream { model, emit in
                try self.checkPrompt(prompt, "prompt", model)
                emit.send(.status("running the logit lens"))
                let lens = try model.logitLens(prompt)
                emit.send(.picture(LogitLensPicture(lens).svg()))
            }
        }
        router.get("/patch") { [self] request, _ in
            let query = request.uri.queryParameters
            let source = query["source"].map(String.init) ?? "", target = query["target"].map(String.init) ?? ""
            let metric = query["metric"].map(String.init) ?? "auto"
            let answer = query["answer"].map(String.init) ?? "", other = query["other"].map(String.init) ?? ""
            logger.info("patch", metadata: ["source": "\(source)", "target": "\(target)", "metric": "\(metric)"])
            return eventStream { model, emit in
                try self.checkPrompt(source, "source prompt", model)
                try self.checkPrompt(target, "target prompt", model)
                let layers = try model.decoderLayerCount()
                let positions = try model.tokenRows(target)[0].count
                guard layers * positions <= self.limits.maxPatchedRuns else {
                    throw RequestError("The sweep is too large: \(layers) layers × \(positions) positions = \(layers * positions) patched runs; the limit is \(self.limits.maxPatchedRuns). Use shorter prompts.")
                }
                let chosen = try self.patchingMetric(metric, answer: answer, other: other, source: source, target: target, model)
                emit.send(.status("patching: 0 of \(layers) layers"))
                _ = try model.patchingSweep(source: source, target: target, metric: chosen) { sweep in
                    try emit.checkCancelled()
                    emit.send(.picture(PatchingPicture(sweep).svg()))
                    emit.send(.status("patching: \(sweep.values.count) of \(layers) layers"))
                }
            }
        }
        router.get("/attention") { [self] request, _ in
            let query = request.uri.queryParameters
            let prompt = query["prompt"].map(String.init) ?? ""
            let layerText = query["layer"].map(String.init) ?? "", headText = query["head"].map(String.init) ?? ""
            logger.info("attention", metadata: ["prompt": "\(prompt)", "layer": "\(layerText)", "head": "\(headText)"])
            return eventStream { model, emit in
                try self.checkPrompt(prompt, "prompt", model)
                let layers = try model.decoderLayerCount()
                guard let layer = Int(layerText.trimmingCharacters(in: .whitespaces)), (0..<layers).contains(layer) else {
                    throw RequestError("Layer \"\(layerText)\" is out of range: the model has layers 0 to \(layers - 1).")
                }
                emit.send(.status("reading the attention of layer \(layer)"))
                let attention = try model.attentionProbabilities(prompt, layer: layer)
                let heads = attention.probabilities.count
                let trimmed = headText.trimmingCharacters(in: .whitespaces)
                var shown = Array(0..<heads)
                if !trimmed.isEmpty && trimmed != "all" {
                    guard let head = Int(trimmed), (0..<heads).contains(head) else {
                        throw RequestError("Head \"\(headText)\" is out of range: layer \(layer) has heads 0 to \(heads - 1) (or all).")
                    }
                    shown = [head]
                }
                emit.send(.picture(AttentionPicture(try AttentionPatterns(attention), heads: shown).svg()))
            }
        }
        router.get("/generate") { [self] request, _ in
            let query = request.uri.queryParameters
            let prompt = query["prompt"].map(String.init) ?? ""
            let maxText = query["max"].map(String.init) ?? "20"
            logger.info("generate", metadata: ["prompt": "\(prompt)", "max": "\(maxText)"])
            return eventStream { model, emit in
                try self.checkPrompt(prompt, "prompt", model)
                guard let maxNewTokens = Int(maxText.trimmingCharacters(in: .whitespaces)),
                      (1...self.limits.maxNewTokens).contains(maxNewTokens) else {
                    throw RequestError("The number of new tokens must be a whole number from 1 to \(self.limits.maxNewTokens), got \"\(maxText)\".")
                }
                emit.send(.status("generating"))
                _ = try model.generateWithProbabilities(prompt, maxNewTokens: maxNewTokens) { generation in
                    emit.send(.picture(GenerationPicture(generation).svg()))
                    emit.send(.status("generated \(generation.tokens.count) of at most \(maxNewTokens) tokens"))
                }
            }
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "nnsight-workbench"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.run()
    }

    /// A response streaming `job`'s events; failures become an event, never a failed response.
    private func eventStream(_ job: @escaping @Sendable (LanguageModel, ModelWorker.Emitter) throws -> Void) -> Response {
        let events = worker.stream(job)
        let logger = self.logger
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for await event in events {
                    if case .error(let message) = event { logger.notice("request refused: \(message)") }
                    try await writer.write(ByteBuffer(string: event.encoded))
                }
                try await writer.finish(nil)
            })
    }

    private func checkPrompt(_ prompt: String, _ name: String, _ model: LanguageModel) throws {
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RequestError("The \(name) is empty: type some text first.")
        }
        let count = try model.tokenRows(prompt)[0].count
        guard count <= limits.maxPromptTokens else {
            throw RequestError("The \(name) has \(count) tokens; the workbench takes at most \(limits.maxPromptTokens).")
        }
    }

    private func patchingMetric(_ name: String, answer: String, other: String, source: String, target: String,
                                _ model: LanguageModel) throws -> PatchingMetric {
        func firstToken(_ text: String, _ role: String) throws -> Int? {
            guard !text.isEmpty else { return nil }
            guard let id = model.tokenizer.encode(text, addSpecialTokens: false).ids.first else {
                throw RequestError("The \(role) \"\(text)\" has no tokens.")
            }
            return id
        }
        let automatic = try model.defaultPatchingMetric(source: source, target: target)
        let sourceTop: Int, targetTop: Int
        switch automatic {
        case .logitDifference(let a, let b): (sourceTop, targetTop) = (a, b)
        case .probability(let a): (sourceTop, targetTop) = (a, a)
        }
        let answerId = try firstToken(answer, "answer") ?? sourceTop
        let otherId = try firstToken(other, "other answer") ?? targetTop
        switch name {
        case "auto": return answer.isEmpty && other.isEmpty ? automatic : .logitDifference(answer: answerId, other: otherId)
        case "logit-difference": return .logitDifference(answer: answerId, other: otherId)
        case "probability": return .probability(of: answerId)
        default: throw RequestError("Unknown metric \"\(name)\": use auto, logit-difference or probability.")
        }
    }
}

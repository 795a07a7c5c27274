import Foundation

/// One token chosen by a generation step, as a streamer receives it (Codable: a remote server
/// streams them to its clients).
public struct StreamedToken: Sendable, Equatable, Codable {
    /// The step that chose it (0 is the step that ran the prompt).
    public var step: Int
    /// The batch row it belongs to.
    public var row: Int
    /// The token id.
    public var id: Int
    /// The token decoded alone (a multi-byte character split over tokens decodes piecewise).
    public var text: String
    /// The probability the model gave it at this step (softmax of the step's logits).
    public var probability: Double
    /// The most likely tokens at this step, most likely first, with their probabilities.
    public var alternatives: [TokenProbability]

    public init(step: Int, row: Int, id: Int, text: String, probability: Double, alternatives: [TokenProbability]) {
        self.step = step
        self.row = row
        self.id = id
        self.text = text
        self.probability = probability
        self.alternatives = alternatives
    }
}

/// A token and the probability a model gave it.
public struct TokenProbability: Sendable, Equatable, Codable {
    public var id: Int
    public var text: String
    public var probability: Double

    public init(id: Int, text: String, probability: Double) {
        self.id = id
        self.text = text
        self.probability = probability
    }
}

/// Receives the tokens of a generation as each step chooses them.
/// Python: the `streamer=` argument of `model.generate` (`put` per step, `end` at the close).
public protocol TokenStreamer: AnyObject, Sendable {
    /// One step's tokens, one per batch row, in row order. Called on the model's thread.
    func receive(_ tokens: [StreamedToken])
    /// Called once when generation ends, normally or by an error.
    func finish()
}

/// A streamer that calls a closure with each step's tokens.
///
/// ```swift
/// try model.generate("Hello", maxNewTokens: 10, streamer: CallbackStreamer { tokens in print(tokens[0].text, terminator: "") }) { _, t in try t.result() }
/// ```
public final class CallbackStreamer: TokenStreamer {
    private let onTokens: @Sendable ([StreamedToken]) -> Void
    private let onFinish: @Sendable () -> Void

    public init(onFinish: @escaping @Sendable () -> Void = {}, _ onTokens: @escaping @Sendable ([StreamedToken]) -> Void) {
        self.onTokens = onTokens
        self.onFinish = onFinish
    }

    public func receive(_ tokens: [StreamedToken]) { onTokens(tokens) }
    public func finish() { onFinish() }
}

/// A streamer that is also an `AsyncSequence` of tokens: iterate it in a task while another
/// thread generates; the sequence ends when generation does.
///
/// ```swift
/// let stream = TokenStream()
/// Task { for await token in stream { print(token.text, terminator: "") } }
/// try model.generate("Hello", maxNewTokens: 10, streamer: stream) { _, t in try t.result() }
/// ```
public final class TokenStream: TokenStreamer, AsyncSequence {
    public typealias Element = StreamedToken
    private let stream: AsyncStream<StreamedToken>
    private let continuation: AsyncStream<StreamedToken>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: StreamedToken.self, bufferingPolicy: .unbounded)
    }

    public func receive(_ tokens: [StreamedToken]) {
        for token in tokens { continuation.yield(token) }
    }

    public func finish() { continuation.finish() }

    public func makeAsyncIterator() -> AsyncStream<StreamedToken>.AsyncIterator { stream.makeAsyncIterator() }
}

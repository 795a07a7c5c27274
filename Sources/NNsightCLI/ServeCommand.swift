import ArgumentParser
import Foundation
import Logging
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch

/// `nnsight serve`: hosts a model for `RemoteModel` clients (protocol: docs/remote-protocol.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model to remote clients (RemoteModel); stops on SIGINT or SIGTERM.")

    @OptionGroup var options: ModelOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port = 8000

    @Option(help: "A JSON file of SHA-256-hashed API keys and their limits; without it anyone may connect.")
    var keys: String?

    @Option(help: "Milliseconds the idle model waits after the last trace arrived for another to share its batched forward.")
    var batchWindowMs = 2

    @Option(help: "The most milliseconds a batch's first trace waits for others (at least one batch window).")
    var maxBatchWaitMs = 20

    @Option(help: "Seconds the server waits for a client's next message while it holds the model.")
    var clientDeadline = 30

    @Option(help: "The most traces one batched forward takes.")
    var maxBatchTraces = 32

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        try Torch.setNumThreads(options.threads)
        var logger = Logger(label: "nnsight.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let configuration = ServerConfiguration(
            host: host, port: port, keys: try keys.map { try APIKeys(contentsOf: $0) },
            batchWindow: .milliseconds(batchWindowMs), maxBatchWait: .milliseconds(maxBatchWaitMs), maxBatchTraces: maxBatchTraces,
            clientDeadline: .seconds(clientDeadline))
        logger.info("loading \(options.model)")
        let server = try RemoteServer(model: LanguageModel(path: options.model, dispatch: true),
                                      configuration: configuration, logger: logger)
        try await server.run(handleSignals: true)
    }
}


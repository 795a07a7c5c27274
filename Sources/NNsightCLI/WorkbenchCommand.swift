import ArgumentParser
import Foundation
import Logging
import NNsight
import NNsightWorkbench

/// `nnsight workbench`: the local web page over one loaded model.
struct WorkbenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "Serve a local web page for the logit lens, patching and generation on one loaded model.")

    @OptionGroup var options: ModelOptions

    @Option(help: "The port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    func run() async throws {
        let model = try options.load()
        let workbench = Workbench(model: model, modelName: options.model)
        let host = self.host
        try await workbench.run(host: host, port: port) { port in
            print("nnsight workbench: http://\(host):\(port)/  (Ctrl-C to stop)")
            fflush(nil)
        }
    }
}

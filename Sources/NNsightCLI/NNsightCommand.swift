import ArgumentParser

/// The `nnsight` command line: look inside a language model and change it while it runs.
@main
struct NNsightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nnsight",
        abstract: "Look inside language models and change them while they run.",
        subcommands: [DemoCommand.self, TraceCommand.self, LensCommand.self, PatchCommand.self, AttentionCommand.self,
                      GenerateCommand.self, WorkbenchCommand.self, ServeCommand.self]
    )
}

/// Options shared by the subcommands.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face checkpoint folder or a GGUF file.")
    var model = ".models/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Option(help: "libtorch intra-op threads.")
    var threads = 1
}

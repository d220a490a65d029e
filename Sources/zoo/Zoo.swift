import ArgumentParser

/// The zoo command line: one subcommand per file in `Subcommands/`.
@main
struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "Convert, cast and check T5-Efficient checkpoints.",
        discussion: """
            Reads and writes safetensors checkpoints (single files and sharded model directories), \
            casts them between fp32, fp16 and bf16, and checks the result.
            """,
        version: "0.1.0",
        subcommands: [
            List.self, Info.self, Pull.self, Inspect.self, ConvertCommand.self, VerifyCommand.self, Checksum.self,
            Run.self,
            Demo.self,
        ]
    )
}

import ArgumentParser
import Formats
import Foundation
import Verify

/// The zoo command line: one subcommand per file in `Subcommands/`.
@main
struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "Convert, cast and check T5-Efficient checkpoints.",
        discussion: """
            Reads and writes safetensors (single and sharded), PyTorch (pytorch_model.bin, single \
            and sharded; legacy files read), Mesh-TF TensorFlow checkpoints and llama.cpp GGUF; \
            maps Mesh-TF and GGUF names to transformers' T5 and back, casts between fp64, fp32, \
            fp16 and bf16 (and Q8_0 for GGUF), and proves every output against its source before \
            renaming it into place. The T5-Efficient family (170 checkpoints) is in the registry.
            """,
        version: "0.1.0",
        subcommands: [
            List.self, Info.self, Pull.self, Inspect.self, ConvertCommand.self, VerifyCommand.self, Checksum.self,
            Run.self,
            Demo.self,
        ]
    )

    /// Runs the command, with staged outputs removed on SIGINT, SIGTERM and SIGHUP, and any
    /// Foundation file error turned into one sentence naming the file and errno.
    static func main() {
        BLAS.prepare()
        StagedOutput.removeOnSignals()
        TruncationGuard.install { error in exit(withError: error) }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            StagedOutput.waitIfStopping()
            exit(withError: CommandLineErrors.describe(plainError(error)))
        }
    }

    /// `error`, or for a Foundation (Cocoa) file error a sentence of zoo's own: the raw
    /// `NSCocoaErrorDomain Code=...` text never reaches the user.
    static func plainError(_ error: any Error) -> any Error {
        let nsError = error as NSError
        // Cocoa's file errors are codes 0...1023 (NSFileErrorMinimum...NSFileErrorMaximum); others
        // (JSON, coding) already read as sentences.
        let isFileError =
            (nsError.domain == NSCocoaErrorDomain && (0...1023).contains(nsError.code))
            || nsError.domain == NSPOSIXErrorDomain
        guard isFileError else { return error }
        let path = (nsError.userInfo[NSFilePathErrorKey] as? String) ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
        return CheckpointError.io(
            path: path ?? "a file", operation: "file access", errno: StagedOutput.posixCode(of: error))
    }
}

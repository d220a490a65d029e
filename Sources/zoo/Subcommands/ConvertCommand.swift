import ArgumentParser
import Convert
import Formats
import Foundation
import Verify

/// `zoo convert SRC DST`: rewrite a checkpoint in another layout and dtype.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint, casting and sharding on the way.",
        discussion: """
            DST ending in .safetensors, .bin or .gguf is written as one file; any other DST is a model \
            directory (model.safetensors or pytorch_model.bin, or shards with an index past \
            --shard-size, plus config.json). A model directory SRC keeps its other files: \
            tokenizer files, generation_config.json, operative_config.gin, README.md and any \
            other regular file of at most 64 MiB that is not weights are copied byte for byte \
            (and listed in SHA256SUMS); what is left out is reported. Output is built under a \
            temporary name and renamed into place only when complete.

            A .gguf DST (or --to gguf) is a llama.cpp GGUF file of architecture t5 with the \
            tokenizer inside: from --tokenizer, else the source directory's spiece.model. Norms \
            stay F32; --dtype q8_0 quantizes the other weights (the relative attention bias, \
            whose rows are not whole blocks of 32, becomes F16, as llama.cpp's converter does). \
            A tied head is written as the embedding times d_model^-0.5, because llama.cpp does \
            not rescale a tied head the way transformers does.
            """)

    @Argument(help: "A checkpoint file, a sharded index, or a model directory.")
    var source: String

    @Argument(help: "Output file (*.safetensors, *.bin, *.gguf) or model directory.")
    var destination: String

    @Option(
        help:
            "Output format: safetensors, pytorch, tf (a Mesh-TF checkpoint directory) or gguf (llama.cpp); default: from DST's extension, else safetensors."
    )
    var to: OutputFormat?

    @Option(
        help:
            "Cast floating-point tensors to this dtype (fp32, fp16, bf16, fp64; q8_0 for GGUF); integers are kept."
    )
    var dtype: TargetDType?

    @Option(help: "The SentencePiece model (spiece.model) a GGUF output carries; default: SRC's own.")
    var tokenizer: String?

    @Option(help: "Start a new shard past this size (e.g. 2GB, 500MB, 20KB, or bytes).")
    var shardSize: String?

    @Flag(help: "Replace a non-empty destination.")
    var force = false

    @Flag(help: "Skip the parity check (tensor comparison and forward pass) of the output.")
    var noVerify = false

    @Option(help: "Compress the weight files (zstd writes *.zst; every command reads them back).")
    var compress: Compression?

    @OptionGroup var output: JSONOutput
    var json: Bool { output.json }

    func validate() throws {
        if let shardSize {
            do { _ = try ByteSize.parse(shardSize) } catch { throw ValidationError(error.description) }
        }
        if shardSize != nil && OutputFormat.named(byExtensionOf: URL(fileURLWithPath: destination)) != nil {
            throw ValidationError("--shard-size needs a directory destination; \(destination) names a single file")
        }
    }

    func run() throws {
        let request = ConversionPlan.Request(
            source: URL(fileURLWithPath: source), destination: URL(fileURLWithPath: destination), dtype: dtype?.dtype,
            shardSize: try shardSize.map { size throws(ConvertError) in try ByteSize.parse(size) }, force: force,
            format: to, compress: compress == .zstd, tokenizer: tokenizer.map { URL(fileURLWithPath: $0) })
        let bar = ProgressBar(label: "converting")
        let result: VerifiedConversion.Report
        do {
            result = try VerifiedConversion.run(
                request, verify: !noVerify, progress: { done, total in bar.update(done: done, total: total) },
                onWritten: { bar.finish() })
        } catch let failure as ParityFailure {
            ParityJSON(failure.report).lines.forEach { Terminal.writeError($0 + "\n") }
            throw ValidationFailure(message: "\(failure) (rerun with --no-verify to keep it anyway)")
        }
        let parity = result.parity.map(ParityJSON.init)
        if json {
            try printJSON(
                ConversionJSON(plan: result.plan, report: result.conversion, parity: parity, timings: result.timings))
        } else {
            describe(plan: result.plan, report: result.conversion).forEach { print($0) }
            parity?.lines.forEach { print($0) }
        }
    }
}

/// `--compress` values.
enum Compression: String, ExpressibleByArgument {
    case zstd
}

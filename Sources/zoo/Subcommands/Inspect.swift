import ArgumentParser
import Convert
import Formats
import Foundation

/// `zoo inspect PATH`: what a checkpoint holds, without converting anything.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a checkpoint's format, tensors, parameter count and inferred T5 config.")

    @Argument(help: "A checkpoint file, a sharded index, or a model directory.")
    var path: String

    @Flag(help: "List every tensor.")
    var tensors = false

    @OptionGroup var output: JSONOutput
    var json: Bool { output.json }

    func run() throws {
        let analyzed = try AnalyzedCheckpoint(opening: URL(fileURLWithPath: path))
        let report = InspectReport(analyzed)
        if json {
            try printJSON(report)
        } else {
            printHuman(report)
        }
        // A checkpoint that is T5 but broken must not pass for a good one in a script.
        if let problem = report.t5_error {
            if !json { print("") }
            throw ValidationFailure(message: problem)
        }
    }

    private func printHuman(_ report: InspectReport) {
        print(report.path)
        print("  format      \(report.format) (\(report.files.count) file\(report.files.count == 1 ? "" : "s"))")
        print("  tensors     \(report.tensor_count) (\(ByteSize.describe(report.bytes)))")
        print("  parameters  \(grouped(report.parameters))")
        print(
            "  dtypes      "
                + report.dtypes.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", "))
        if !report.unverified.isEmpty {
            print(
                "  unverified  \(report.unverified.count) members stored without a CRC-32 (their bytes are read "
                    + "unchecked): \(report.unverified.prefix(4).joined(separator: ", "))"
                    + (report.unverified.count > 4 ? ", ..." : ""))
        }
        if !report.skipped.isEmpty {
            print(
                "  skipped     \(report.skipped.count) non-tensor entries: \(report.skipped.prefix(8).joined(separator: ", "))"
                    + (report.skipped.count > 8 ? ", ..." : ""))
        }
        let entries = report.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        // A few entries (safetensors' `format`) fit on one line; a GGUF's thirty keys get one each.
        if entries.count <= 4, !entries.isEmpty {
            print("  metadata    " + entries.joined(separator: ", "))
        } else if !entries.isEmpty {
            print("  metadata    " + entries[0])
            for entry in entries.dropFirst() { print("              " + entry) }
        }
        if let meshTF = report.mesh_tf {
            print("  Mesh-TF     \(meshTF.mapped_variables) variables map to transformers' T5 (kernels transposed)")
            if let skipped = meshTF.skipped_summary { print("              " + skipped) }
            if let gin = meshTF.gin { print("              config cross-checked with \(gin)") }
        }
        if let gguf = report.gguf {
            print(
                "  GGUF        \(gguf.mapped_tensors) tensors map to transformers' T5 (llama.cpp names, no transposes)")
            if let head = gguf.derived_head, let scale = gguf.tied_head_scale {
                print("              \(head) is the tied embedding times \(scale) (d_model^-0.5, for llama.cpp)")
            }
        }
        if let config = report.config {
            print(
                "  T5 config   \(config.feed_forward_proj) FFN, \(config.tie_word_embeddings ? "tied" : "untied") embeddings"
            )
            print("              encoder \(config.num_layers) layers, decoder \(config.num_decoder_layers) layers")
            print(
                "              d_model \(config.d_model), d_ff \(config.d_ff), d_kv \(config.d_kv), heads \(config.num_heads), "
                    + "vocab \(config.vocab_size), \(config.relative_attention_num_buckets) buckets")
            print(
                "  registry    "
                    + (report.registry_matches.isEmpty
                        ? "no T5-Efficient checkpoint has this architecture"
                        : report.registry_matches.joined(separator: ", ")))
            if !report.tied_aliases.isEmpty {
                print("  tied        \(report.tied_aliases.joined(separator: ", ")) = shared.weight")
            }
        } else if report.t5_error == nil {
            print("  T5 config   none (the tensors are not a T5 model)")
        }
        if tensors {
            print("")
            let width = report.tensors.map(\.name.count).max() ?? 0
            for tensor in report.tensors {
                let padded = tensor.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let dtype = tensor.dtype.padding(toLength: 7, withPad: " ", startingAt: 0)
                print("  \(padded)  \(dtype) \(tensor.shape)")
            }
        }
    }
}

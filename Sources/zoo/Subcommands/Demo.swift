import ArgumentParser
import Convert
import Formats
import Foundation
import Verify

/// `zoo demo`: the whole pipeline on the bundled sample model, each step checked.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert the bundled sample model through every format and dtype, checking each result.")

    @Option(help: "Sample model directory (default: the one bundled with zoo).")
    var sample: String?

    @Option(help: "Keep the outputs in this directory (default: a temporary directory, removed afterwards).")
    var workDirectory: String?

    func run() throws {
        let sampleURL =
            sample.map { URL(fileURLWithPath: $0) }
            ?? (Bundle.module.resourceURL ?? Bundle.module.bundleURL).appendingPathComponent(
                "Sample/t5-efficient-sample")
        let work =
            workDirectory.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("zoo-demo-\(getpid())")
        if workDirectory == nil {
            try? FileManager.default.removeItem(at: work)
        }
        defer { if workDirectory == nil { try? FileManager.default.removeItem(at: work) } }

        let source = try AnalyzedCheckpoint(opening: sampleURL)
        let model = try source.t5.get()
        let config = model.config
        print("sample: \(sampleURL.path)")
        print(
            "  \(source.checkpoint.format.displayName), \(source.checkpoint.tensors.count) tensors, "
                + "\(grouped(model.parameterCount)) parameters, \(ByteSize.describe(source.checkpoint.tensorBytes))")
        print(
            "  T5: \(config.feedForward.rawValue) FFN, \(config.tieWordEmbeddings ? "tied" : "untied") embeddings, "
                + "encoder \(config.numLayers) / decoder \(config.numDecoderLayers) layers, d_model \(config.dModel), "
                + "d_ff \(config.dFF), d_kv \(config.dKV), \(config.numHeads) heads, vocab \(config.vocabSize)")
        print("")

        var runner = StepRunner(work: work, sourceConfig: config)
        let bf16 = runner.step("sample -> bf16", from: sampleURL, to: "bf16", dtype: .bf16, compareWith: sampleURL)
        runner.step("sample -> fp16", from: sampleURL, to: "fp16", dtype: .f16, compareWith: sampleURL)
        runner.step("bf16 -> fp32 (widening is exact)", from: bf16, to: "bf16-to-fp32", dtype: .f32, compareWith: bf16)
        let sharded = runner.step(
            "sample -> fp32 sharded (--shard-size 300KB)", from: sampleURL, to: "sharded", shardSize: 300_000,
            compareWith: sampleURL, expectBitExact: true)
        runner.step(
            "sharded -> single bf16 file (bit-identical to the first bf16)", from: sharded,
            to: "single-bf16.safetensors",
            dtype: .bf16, compareWith: bf16.appendingPathComponent("model.safetensors"), expectBitExact: true)
        let fp64 = runner.step("sample -> fp64", from: sampleURL, to: "fp64", dtype: .f64, compareWith: sampleURL)
        runner.step(
            "fp64 -> fp32 (round trip is exact)", from: fp64, to: "fp64-to-fp32", dtype: .f32, compareWith: sampleURL,
            expectBitExact: true)
        let pytorch = runner.step(
            "sample -> PyTorch pytorch_model.bin", from: sampleURL, to: "pytorch", format: .pytorch,
            compareWith: sampleURL, expectBitExact: true)
        runner.step(
            "pytorch_model.bin -> bf16 safetensors file (bit-identical to the first bf16)", from: pytorch,
            to: "pytorch-to-bf16.safetensors", dtype: .bf16,
            compareWith: bf16.appendingPathComponent("model.safetensors"),
            expectBitExact: true)
        runner.step(
            "sample -> PyTorch bf16, sharded (--shard-size 300KB)", from: sampleURL, to: "pytorch-bf16-sharded",
            dtype: .bf16, shardSize: 300_000, format: .pytorch,
            compareWith: bf16.appendingPathComponent("model.safetensors"),
            expectBitExact: true)
        runner.step(
            "sample -> bf16, zstd-compressed (read back transparently)", from: sampleURL, to: "bf16-zstd", dtype: .bf16,
            compress: true, compareWith: bf16.appendingPathComponent("model.safetensors"), expectBitExact: true)
        let meshTF = runner.step(
            "sample -> Mesh-TF TensorFlow checkpoint, bf16 (--to tf, --shard-size 300KB)", from: sampleURL,
            to: "meshtf-bf16", dtype: .bf16, shardSize: 300_000, format: .tensorflow,
            compareWith: bf16.appendingPathComponent("model.safetensors"), expectBitExact: true)
        runner.step(
            "Mesh-TF checkpoint -> transformers safetensors (bit-identical to the first bf16)", from: meshTF,
            to: "meshtf-to-hf", compareWith: bf16.appendingPathComponent("model.safetensors"), expectBitExact: true)
        // llama.cpp reads the vocabulary from the GGUF file; the sample ships none, so the demo
        // uses the fixtures' tokenizer bundled beside it (a --sample directory's own, if it has one).
        let ownTokenizer = sampleURL.appendingPathComponent("spiece.model")
        let tokenizer =
            FileManager.default.fileExists(atPath: ownTokenizer.path)
            ? ownTokenizer
            : (Bundle.module.resourceURL ?? Bundle.module.bundleURL).appendingPathComponent(
                "Sample/tokenizer/spiece.model")
        runner.step(
            "sample -> GGUF for llama.cpp, Q8_0 (--dtype q8_0, tokenizer inside)", from: sampleURL,
            to: "sample-q8_0.gguf", dtype: .q8_0, tokenizer: tokenizer, compareWith: sampleURL)
        let gguf = runner.step(
            "sample -> GGUF, fp32", from: sampleURL, to: "sample-f32.gguf", dtype: .f32, tokenizer: tokenizer,
            compareWith: sampleURL)
        runner.step(
            "GGUF -> transformers safetensors (bit-identical to the sample)", from: gguf, to: "gguf-to-hf",
            compareWith: sampleURL, expectBitExact: true)
        runner.checkManifest(of: bf16)
        runner.runForwardPass(sampleURL, config: config, source: source)

        print("")
        if runner.failures > 0 {
            print("demo: \(runner.failures) of \(runner.steps) checks FAILED")
            throw ExitCode.failure
        }
        print(
            "demo: \(runner.steps) steps, \(runner.steps) checks passed"
                + (workDirectory == nil ? "" : "; outputs in \(work.path)"))
    }
}

/// Runs one conversion of the demo, checks it, and prints one block about it.
private struct StepRunner {
    let work: URL
    let sourceConfig: T5Config
    private(set) var steps = 0
    private(set) var failures = 0

    init(work: URL, sourceConfig: T5Config) {
        self.work = work
        self.sourceConfig = sourceConfig
    }

    /// Converts, reopens the output, compares it tensor by tensor with `compareWith`, and checks
    /// that the output still reads as the same T5 architecture. Returns the output's location.
    @discardableResult
    mutating func step(
        _ title: String, from source: URL, to name: String, dtype: DType? = nil, shardSize: Int? = nil,
        format: OutputFormat? = nil, compress: Bool = false, tokenizer: URL? = nil, compareWith reference: URL,
        expectBitExact: Bool = false
    ) -> URL {
        steps += 1
        let destination = work.appendingPathComponent(name)
        do {
            // The conversion `zoo convert` runs: manifest and parity against its source, then commit.
            let conversion = try VerifiedConversion.run(
                .init(
                    source: source, destination: destination, dtype: dtype, shardSize: shardSize, format: format,
                    compress: compress, tokenizer: tokenizer))
            let (plan, report) = (conversion.plan, conversion.conversion)
            let output = try AnalyzedCheckpoint(opening: destination)
            // And against the step's own reference (an earlier output it must equal bit for bit).
            let parity = try Parity.check(output, against: try AnalyzedCheckpoint(opening: reference))
            let comparison = parity.tensors
            var problems: [String] = []
            let expectedFormats = plan.format.writtenFormats
            if !expectedFormats.contains(output.checkpoint.format) {
                problems.append("output reads back as \(output.checkpoint.format.displayName)")
            }
            if !comparison.passed {
                let bad = comparison.tensors.filter { !$0.passed }.map(\.name)
                problems.append(
                    "tensors differ beyond the bound: \((comparison.missing + comparison.extra + bad).prefix(5).joined(separator: ", "))"
                )
            }
            if let logits = parity.logits, !logits.passed {
                problems.append(
                    "the logits on the probe batch differ beyond the limits (max abs \(scientific(logits.maxAbsoluteError)))"
                )
            }
            if expectBitExact && comparison.bitExactCount != comparison.tensors.count {
                problems.append("\(comparison.tensors.count - comparison.bitExactCount) tensors are not bit-identical")
            }
            switch output.t5 {
            case let .success(model)
            where model.config.numLayers == sourceConfig.numLayers && model.config.dModel == sourceConfig.dModel:
                break
            case let .failure(error): problems.append("output is not a valid T5 checkpoint: \(error)")
            default: problems.append("output's architecture differs from the sample's")
            }

            print("\(problems.isEmpty ? "ok  " : "FAIL") \(title)")
            for line in describe(plan: plan, report: report).dropFirst() { print("  " + line) }
            let exactness =
                comparison.bitExactCount == comparison.tensors.count
                ? "all \(comparison.tensors.count) tensors bit-identical"
                : "\(comparison.tensors.count) tensors within rounding (max abs \(scientific(comparison.maxAbsoluteError)), "
                    + "max rel \(scientific(comparison.maxRelativeError)); \(comparison.bitExactCount) bit-identical)"
            if let own = conversion.parity {
                print(
                    "      verified against its source before the rename: parity passed "
                        + "(\(own.tensors.tensors.count) tensors, forward pass max abs "
                        + "\(own.logits.map { scientific($0.maxAbsoluteError) } ?? "n/a"))")
            }
            print("      checked against \(reference.lastPathComponent): \(exactness)")
            if let logits = parity.logits {
                print(
                    "      forward pass on the probe batch: max abs \(scientific(logits.maxAbsoluteError)), cosine "
                        + "\(String(format: "%.6f", logits.cosineSimilarity)), top-1 agreement \(Int(logits.topOneAgreement * 100))%"
                )
            }
            for file in output.checkpoint.files {
                print("      sha256 \(try FileDigest.sha256(path: file.path))  \(file.lastPathComponent)")
            }
            for problem in problems { print("      problem: \(problem)") }
            if !problems.isEmpty { failures += 1 }
        } catch {
            print("FAIL \(title): \(error)")
            failures += 1
        }
        return destination
    }

    /// Writes a SHA256SUMS manifest for `directory` and checks it, as `zoo checksum` does.
    mutating func checkManifest(of directory: URL) {
        steps += 1
        do {
            let written = try ChecksumManifest.write(for: directory)
            let checked = try ChecksumManifest.check(directory.appendingPathComponent(ChecksumManifest.fileName))
            let passed = checked.count == written.count && checked.allSatisfy(\.passed)
            print(
                "\(passed ? "ok  " : "FAIL") SHA256SUMS for \(directory.lastPathComponent): \(written.count) files hashed "
                    + "in parallel, checked back (`sha256sum -c` reads the same file)")
            if !passed { failures += 1 }
        } catch {
            print("FAIL SHA256SUMS for \(directory.lastPathComponent): \(error)")
            failures += 1
        }
    }

    /// Runs the sample in fp32 and in fp16 and prints its top tokens, as `zoo run` does.
    mutating func runForwardPass(_ sample: URL, config: T5Config, source: AnalyzedCheckpoint) {
        steps += 1
        do {
            let batch = T5ForwardPass.Batch(inputIDs: [[5, 6, 7, 8, 9, 10, 11, 1]], decoderInputIDs: [[0, 5, 6]])
            let fp32 = try T5ForwardPass(checkpoint: source.checkpoint, config: config).run(batch)
            let fp16 = try T5ForwardPass(checkpoint: source.checkpoint, config: config, precision: .fp16).run(batch)
            let top = (0..<fp32.decoderLength).map { position in
                let row = fp32.logits[(position * fp32.vocabularySize)..<((position + 1) * fp32.vocabularySize)]
                return (row.indices.max { row[$0] < row[$1] } ?? 0) - position * fp32.vocabularySize
            }
            let drift = zip(fp32.logits, fp16.logits).map { abs($0 - $1) }.max() ?? 0
            // What transformers' T5ForConditionalGeneration predicts here (Tests/Fixtures/forward/sample_single).
            let finite = fp16.logits.allSatisfy(\.isFinite) && top == [1034, 5, 6]
            print(
                "\(finite ? "ok  " : "FAIL") zoo run on the sample (input 5..11,1; decoder 0,5,6): top tokens \(top) "
                    + "(transformers gives [1034, 5, 6]); fp16 mode within \(scientific(Double(drift))) of fp32, "
                    + "\(fp16.overflowedActivations) activations overflowed")
            if !finite { failures += 1 }
        } catch {
            print("FAIL zoo run on the sample: \(error)")
            failures += 1
        }
    }

    private func scientific(_ value: Double) -> String { String(format: "%.2e", value) }
}

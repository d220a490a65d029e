import Foundation
import TestSupport
import Testing

@testable import Formats

/// `zoo convert` on whole model directories, and the refusals of model files zoo does not read.
@Suite struct DirectoryCLITests {
    static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model"]
    static let carried =
        ["README.md", "generation_config.json", "operative_config.gin"] + tokenizerFiles

    @Test(arguments: [
        ("foreign/tf2_object", "foreign/tf2_object/ckpt.index", "TensorFlow 2 object-based checkpoint"),
        ("foreign/tf2_object/ckpt.index", "foreign/tf2_object/ckpt.index", "TensorFlow 2 object-based checkpoint"),
        ("foreign/keras_h5", "foreign/keras_h5/tf_model.h5", "Keras weights"),
        ("foreign/keras_h5/tf_model.h5", "foreign/keras_h5/tf_model.h5", "Keras weights"),
        ("foreign/flax", "foreign/flax/flax_model.msgpack", "Flax weights"),
        ("foreign/flax/flax_model.msgpack", "foreign/flax/flax_model.msgpack", "Flax weights"),
        ("foreign/torchscript.pt", "foreign/torchscript.pt", "TorchScript archive"),
    ])
    func foreignModelFilesAreRefusedInOneSentence(_ given: String, _ named: String, _ what: String) throws {
        let path = Fixtures.url(given).path
        for command in [["inspect", path], ["convert", path, "/tmp/zoo-never-\(UUID().uuidString)"]] {
            let run = try ZooBinary.run(command)
            #expect(run.status == 1)
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(run.stderr.hasPrefix("Error: \(Fixtures.url(named).path): "), "\(run.stderr)")
            #expect(run.stderr.contains(what) && run.stderr.contains("which zoo does not read; "), "\(run.stderr)")
        }
    }

    @Test func aConvertedDirectoryHoldsTheSourcesCompanionsListedInItsManifest() throws {
        let temporary = TemporaryDirectory()
        let source = Fixtures.url("companions/hub_snapshot")
        let destination = temporary.path("bf16")
        let run = try ZooBinary.run(["convert", source.path, destination.path + "/", "--dtype", "bf16"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.contains(
                "carried 7 files of the source directory byte for byte: README.md, generation_config.json, "
                    + "operative_config.gin, special_tokens_map.json, spiece.model, tokenizer.json, "
                    + "tokenizer_config.json"),
            "\(run.stdout)")
        #expect(run.stdout.contains("parity: passed"))

        let manifest = try String(contentsOf: destination.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
        let listed = manifest.split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
        #expect(listed == (Self.carried + ["config.json", "model.safetensors"]).sorted())
        for name in Self.carried {
            let copied = FileManager.default.contents(atPath: destination.appendingPathComponent(name).path)
            #expect(
                copied != nil
                    && copied == FileManager.default.contents(atPath: source.appendingPathComponent(name).path),
                "\(name)")
        }
        // What AutoTokenizer loads survives, and the whole directory checks out.
        for name in Self.tokenizerFiles {
            #expect(FileManager.default.fileExists(atPath: destination.appendingPathComponent(name).path), "\(name)")
        }
        let check = try ZooBinary.run(["checksum", destination.path, "--check"])
        #expect(check.status == 0, "\(check.stdout)")
    }

    @Test func theJSONSummarySaysWhatWasCarriedAndLeftOut() throws {
        let temporary = TemporaryDirectory()
        let source = temporary.path("src")
        try FileManager.default.copyItem(at: Fixtures.url("companions/hub_snapshot"), to: source)
        try FileManager.default.createDirectory(
            at: source.appendingPathComponent("runs"), withIntermediateDirectories: false)
        let run = try ZooBinary.run(["convert", source.path, temporary.path("out").path, "--json", "--no-verify"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(json["companions"]?.arrayValue?.compactMap(\.stringValue) == Self.carried.sorted())
        #expect(json["companions_left_out"]?.arrayValue?.first?["name"]?.stringValue == "runs")
        #expect(json["companions_left_out"]?.arrayValue?.first?["reason"]?.stringValue == "a subdirectory")
        #expect(json["kept_operative_config"] == .bool(false))
    }

    @Test func toTensorFlowKeepsTheSourcesOperativeConfig() throws {
        let temporary = TemporaryDirectory()
        let source = Fixtures.url("companions/hub_snapshot")
        let destination = temporary.path("tf")
        let run = try ZooBinary.run(["convert", source.path, destination.path, "--to", "tf", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(json["kept_operative_config"] == .bool(true))
        let gin = "operative_config.gin"
        #expect(
            FileManager.default.contents(atPath: destination.appendingPathComponent(gin).path)
                == FileManager.default.contents(atPath: source.appendingPathComponent(gin).path))
        let human = try ZooBinary.run(["convert", source.path, temporary.path("tf2").path, "--to", "tf"])
        #expect(human.stdout.contains("kept the source's operative_config.gin"), "\(human.stdout)")
    }
}

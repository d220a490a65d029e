import Foundation
import TestSupport
import Testing

@testable import Formats

/// End-to-end tests of the built `zoo` binary: stdout, stderr and exit codes.
@Suite struct ZooCLITests {
    @Test func inspectJSONDescribesTheSample() throws {
        let run = try ZooBinary.run(["inspect", Fixtures.sample.path, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(report["format"]?.stringValue == "safetensors")
        #expect(report["parameters"]?.intValue == 460_032)
        #expect(report["tensors"]?.arrayValue?.count == 63)
        let shared = report["tensors"]?.arrayValue?.first { $0["name"]?.stringValue == "shared.weight" }
        #expect(shared?["dtype"]?.stringValue == "F32")
        #expect(shared?["shape"] == .array([.number("2048"), .number("64")]))
        let config = try #require(report["config"])
        #expect(config["num_layers"]?.intValue == 4 && config["num_decoder_layers"]?.intValue == 2)
        #expect(config["num_heads"]?.intValue == 4 && config["d_kv"]?.intValue == 16)
        #expect(config["feed_forward_proj"]?.stringValue == "relu" && config["tie_word_embeddings"]?.boolValue == true)
    }

    @Test func inspectHumanOutputListsTensors() throws {
        let run = try ZooBinary.run(["inspect", Fixtures.url("t5_gated_untied").path, "--tensors"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("gated-gelu FFN, untied embeddings"))
        #expect(run.stdout.contains("lm_head.weight"))
        #expect(run.stdout.contains("encoder 2 layers, decoder 3 layers"))
    }

    @Test func inspectOfAMeshTFCheckpointShowsTheMappingSkipsAndConfig() throws {
        let run = try ZooBinary.run(["inspect", Fixtures.url("tf/sample_meshtf").path, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(report["format"]?.stringValue == "tensorflow-bundle")
        #expect(report["parameters"]?.intValue == 460_032, "slots and global_step are not parameters")
        let meshTF = try #require(report["mesh_tf"])
        #expect(meshTF["mapped_variables"]?.intValue == 63)
        #expect(meshTF["skipped_variables"]?.arrayValue?.count == 109)
        #expect(meshTF["gin"]?.stringValue?.hasSuffix("operative_config.gin") == true)
        #expect(
            report["config"]?["num_layers"]?.intValue == 4 && report["config"]?["num_decoder_layers"]?.intValue == 2)
    }

    @Test func convertsAMeshTFCheckpointWithParity() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("hf")
        let run = try ZooBinary.run([
            "convert", Fixtures.url("tf/gated_untied_meshtf").path, destination.path, "--dtype", "fp32",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.contains("skipped 116 Mesh-TF variables (115 Adafactor optimizer slot, 1 training step counter)")
        )
        #expect(run.stdout.contains("parity: passed"))
        #expect(temporary.contents() == ["hf"], "the temporary parity reference is gone")
    }

    @Test func refusesAHostileTensorFlowIndexWithItsOffset() throws {
        let index = Fixtures.url("tf_bad/bad_block_checksum/model.ckpt.index")
        let run = try ZooBinary.run(["inspect", index.path])
        #expect(run.status != 0)
        #expect(run.stderr.contains(index.path) && run.stderr.contains("byte offset"), "\(run.stderr)")
    }

    @Test func convertThenInspectShowsTheNewDType() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("bf16")
        let convert = try ZooBinary.run(["convert", Fixtures.sample.path, destination.path, "--dtype", "bf16"])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.contains("F32 -> BF16"))
        #expect(convert.stderr.isEmpty, "no progress bar when stderr is not a terminal")

        let inspect = try ZooBinary.run(["inspect", destination.path, "--json"])
        let report = try JSONParser.parse(Array(inspect.stdout.utf8))
        #expect(report["dtypes"] == .object([.init(key: "BF16", value: .number("63"))]))

        let again = try ZooBinary.run(["convert", Fixtures.sample.path, destination.path])
        #expect(again.status != 0)
        #expect(again.stderr.contains("--force"))
    }

    @Test func convertJSONReportsCastStatistics() throws {
        let temporary = TemporaryDirectory()
        let source = Fixtures.url("casts/source.safetensors").path
        let run = try ZooBinary.run([
            "convert", source, temporary.path("f16.safetensors").path, "--dtype", "fp16", "--json", "--no-verify",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONParser.parse(Array(run.stdout.utf8))
        let casts = try #require(report["casts"]?.arrayValue)
        let random = try #require(casts.first { $0["tensor"]?.stringValue == "random_F32" })
        #expect((random["overflow_to_inf"]?.intValue ?? 0) > 0)
        #expect((random["underflow_to_zero"]?.intValue ?? 0) > 0)

        // Without --no-verify, values lost to fp16 overflow fail the parity check and nothing is written.
        let checked = try ZooBinary.run([
            "convert", source, temporary.path("checked.safetensors").path, "--dtype", "fp16",
        ])
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("failed its parity check"))
        #expect(!FileManager.default.fileExists(atPath: temporary.path("checked.safetensors").path))
    }

    @Test func shardedOutputHasAnIndex() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("sharded")
        let run = try ZooBinary.run(["convert", Fixtures.sample.path, destination.path, "--shard-size", "500KB"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: destination.path).sorted()
        #expect(files.contains("model.safetensors.index.json") && files.contains("config.json"))
        #expect(files.filter { $0.hasPrefix("model-") }.count == 4)
    }

    @Test(arguments: [
        "header_length_past_eof.safetensors", "overlapping_offsets.safetensors", "duplicate_key.safetensors",
    ])
    func badFilesFailWithOneClearError(_ name: String) throws {
        let path = Fixtures.url("bad/\(name)").path
        for command in [["inspect", path], ["convert", path, "/tmp/zoo-never-\(UUID().uuidString)"]] {
            let run = try ZooBinary.run(command)
            #expect(run.status == 1)
            #expect(run.stdout.isEmpty)
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(run.stderr)")
            #expect(run.stderr.contains(path) && run.stderr.contains("byte offset"))
        }
    }

    @Test func convertsPyTorchBothWays() throws {
        let temporary = TemporaryDirectory()
        let toBin = try ZooBinary.run([
            "convert", Fixtures.sample.path, temporary.path("bin").path, "--to", "pytorch", "--dtype", "bf16",
        ])
        #expect(toBin.status == 0, "\(toBin.stderr)")
        #expect(toBin.stdout.contains("pytorch_model.bin"))
        let back = try ZooBinary.run([
            "convert", temporary.path("bin").path, temporary.path("back.safetensors").path, "--json",
        ])
        #expect(back.status == 0, "\(back.stderr)")
        let report = try JSONParser.parse(Array(back.stdout.utf8))
        #expect(report["source_format"]?.stringValue == "pytorch-zip")
        #expect(report["folded_aliases"]?.arrayValue?.count == 3)
    }

    @Test(arguments: [
        "global_os_system.bin", "inst_os_system.bin", "deep_nesting.bin", "zip_bomb_ratio.bin", "legacy_truncated.bin",
    ])
    func hostilePyTorchFilesFailWithOneClearError(_ name: String) throws {
        let path = Fixtures.url("torch_bad/\(name)").path
        let run = try ZooBinary.run(["inspect", path])
        #expect(run.status == 1, "exit \(run.status): a crash would be a signal")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderr.contains(path) && run.stderr.contains("offset"))
    }

    @Test func runPrintsLogitsAndTopTokens() throws {
        let run = try ZooBinary.run([
            "run", Fixtures.sample.path, "--input-ids", "5,6,7,8,9,10,11,1", "--decoder-input-ids", "0,5,6", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONParser.parse(Array(run.stdout.utf8))
        let logits = try #require(output["logits"]?.arrayValue)
        #expect(
            logits.count == 1 && logits[0].arrayValue?.count == 3 && logits[0].arrayValue?[0].arrayValue?.count == 2048)
        #expect(output["encoder_last_hidden_state"]?.arrayValue?[0].arrayValue?.count == 8)
        // transformers' top token at position 0 for this input (see Tests/Fixtures/forward/sample_single).
        #expect(output["top_tokens"]?.arrayValue?[0].arrayValue?[0].arrayValue?[0]["token"]?.intValue == 1034)
    }

    @Test func convertVerifiesAndWritesAChecksumManifest() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("bf16")
        let convert = try ZooBinary.run(["convert", Fixtures.sample.path, destination.path, "--dtype", "bf16"])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.contains("parity: passed"))
        #expect(FileManager.default.fileExists(atPath: destination.appendingPathComponent("SHA256SUMS").path))

        let verifyOne = try ZooBinary.run(["verify", destination.path])
        #expect(verifyOne.status == 0 && verifyOne.stdout.contains("3 of 3 files match"), "\(verifyOne.stdout)")
        let verifyTwo = try ZooBinary.run(["verify", Fixtures.sample.path, destination.path, "--json"])
        #expect(verifyTwo.status == 0)
        #expect(try JSONParser.parse(Array(verifyTwo.stdout.utf8))["passed"] == .bool(true))

        // Tamper with the config: the manifest catches it, and the exit status says so.
        try Data("{}".utf8).write(to: destination.appendingPathComponent("config.json"))
        let check = try ZooBinary.run(["checksum", destination.path, "--check"])
        #expect(check.status == 1 && check.stdout.contains("config.json: FAILED"))
    }

    @Test func anFP16ConversionThatOverflowsIsRefusedWithTheReason() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("f16")
        let run = try ZooBinary.run([
            "convert", Fixtures.url("overflow_fp16").path, destination.path, "--dtype", "fp16",
        ])
        #expect(run.status == 1)
        #expect(run.stderr.contains("activations overflowed fp16"), "\(run.stderr)")
        #expect(run.stderr.contains("parity: FAILED") && run.stderr.contains("nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        #expect(temporary.contents().isEmpty, "no staging directory left")

        // Kept anyway with --no-verify, `zoo verify` then says the same and exits non-zero.
        let kept = try ZooBinary.run([
            "convert", Fixtures.url("overflow_fp16").path, destination.path, "--dtype", "fp16", "--no-verify",
        ])
        #expect(kept.status == 0)
        let verify = try ZooBinary.run(["verify", Fixtures.url("overflow_fp16").path, destination.path])
        #expect(verify.status == 1 && verify.stdout.contains("activations overflowed fp16"))
    }

    @Test func verifyFailsOnADifferentCheckpoint() throws {
        let run = try ZooBinary.run(["verify", Fixtures.sample.path, Fixtures.url("t5_gated_untied").path])
        #expect(run.status == 1)
        #expect(run.stdout.contains("parity: FAILED"))
    }

    @Test func listsTheRegistry() throws {
        let all = try ZooBinary.run(["list"])
        #expect(all.status == 0 && all.stdout.contains("170 checkpoints"))
        let large = try ZooBinary.run(["list", "--base", "large", "--supported", "--json"])
        let rows = try #require(try JSONParser.parse(Array(large.stdout.utf8)).arrayValue)
        #expect(!rows.isEmpty && rows.allSatisfy { $0["status"]?.stringValue == "supported" })
        let dm128 = rows.first { $0["name"]?.stringValue == "t5-efficient-large-dm128" }
        #expect(dm128?["parameters"]?.intValue == 92_209_408 && dm128?["d_model"]?.intValue == 128)
        let unsupported = try ZooBinary.run(["list", "--unsupported"])
        #expect(unsupported.stdout.contains("10 checkpoints") && unsupported.stdout.contains("t5-efficient-xl-skv"))
        #expect(try ZooBinary.run(["list", "--base", "huge"]).status == 64)
    }

    @Test func infoExplainsACheckpointOrSuggestsNames() throws {
        let info = try ZooBinary.run(["info", "t5-efficient-large-dm128"])
        #expect(info.status == 0)
        #expect(info.stdout.contains("92,209,408 (embedding 4,112,384, encoder 37,755,520, decoder 50,341,504)"))
        #expect(info.stdout.contains("google/t5-efficient-large-dm128"))
        let json = try JSONParser.parse(
            Array(try ZooBinary.run(["info", "t5-efficient-tiny-sh", "--json"]).stdout.utf8))
        #expect(json["status"]?.stringValue == "unsupported" && json["parameters"] == JSONValue.null)
        #expect(json["architecture"]?["d_model"]?.intValue == 256)
        let unknown = try ZooBinary.run(["info", "t5-efficient-large-dm129"])
        #expect(unknown.status == 1 && unknown.stderr.contains("closest: t5-efficient-large-dm128"))
    }

    @Test func inspectSaysWhetherTheArchitectureIsAFamilyMember() throws {
        // The sample is scaled down: no T5-Efficient checkpoint has its architecture.
        let sample = try ZooBinary.run(["inspect", Fixtures.sample.path, "--json"])
        #expect(try JSONParser.parse(Array(sample.stdout.utf8))["registry_matches"] == .array([]))
        #expect(
            try ZooBinary.run(["inspect", Fixtures.sample.path]).stdout.contains(
                "no T5-Efficient checkpoint has this architecture"))
    }

    @Test func invalidOptionsAreUsageErrors() throws {
        let badSize = try ZooBinary.run(["convert", Fixtures.sample.path, "/tmp/x", "--shard-size", "lots"])
        #expect(badSize.status == 64)
        #expect(badSize.stderr.contains("invalid shard size 'lots'"))
        let badDType = try ZooBinary.run(["convert", Fixtures.sample.path, "/tmp/x", "--dtype", "int4"])
        #expect(badDType.status == 64)
        let singleSharded = try ZooBinary.run([
            "convert", Fixtures.sample.path, "/tmp/x.safetensors", "--shard-size", "1MB",
        ])
        #expect(singleSharded.status == 64)
    }

    @Test func demoConvertsAndChecksEverything() throws {
        let temporary = TemporaryDirectory()
        let run = try ZooBinary.run(["demo", "--work-directory", temporary.path("demo").path])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("18 steps, 18 checks passed"))
        #expect(!run.stdout.contains("FAIL"))
    }
}

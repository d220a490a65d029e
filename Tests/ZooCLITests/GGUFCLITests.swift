import Foundation
import TestSupport
import Testing

@testable import Formats

/// `zoo convert` to and from GGUF, end to end through the binary.
@Suite struct GGUFCLITests {
    private let temporary = TemporaryDirectory()

    @Test func convertsTheSampleToQ8_0GGUFWithParityAndRunsIt() throws {
        let output = temporary.path("sample.gguf")
        let convert = try ZooBinary.run([
            "convert", Fixtures.sample.path, output.path, "--dtype", "q8_0", "--tokenizer",
            Fixtures.url("spm/spiece.model").path, "--json",
        ])
        #expect(convert.status == 0, "\(convert.stderr)")
        let report = try JSONParser.parse(Array(convert.stdout.utf8))
        #expect(report["parity"]?["passed"]?.boolValue == true)
        #expect(report["parity"]?["rounded_to"]?.stringValue == "Q8_0")

        let inspect = try ZooBinary.run(["inspect", output.path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("relu FFN, tied embeddings"))
        #expect(inspect.stdout.contains("Q8_0 x46"))
        #expect(inspect.stdout.contains("63 tensors map to transformers' T5"))
        #expect(inspect.stdout.contains("output.weight is the tied embedding times 0.125"))

        let run = try ZooBinary.run(["run", output.path, "--input-ids", "5,17,33,1", "--decoder-input-ids", "0"])
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test func withoutATokenizerTheErrorNamesTheFlagAndNothingIsWritten() throws {
        let output = temporary.path("sample.gguf")
        let convert = try ZooBinary.run(["convert", Fixtures.sample.path, output.path])
        #expect(convert.status != 0)
        #expect(convert.stderr.contains("--tokenizer"), "\(convert.stderr)")
        #expect(convert.stderr.contains("spiece.model"))
        #expect(temporary.contents().isEmpty)
    }

    @Test func q8_0IsRefusedOutsideGGUF() throws {
        let convert = try ZooBinary.run([
            "convert", Fixtures.sample.path, temporary.path("out.safetensors").path, "--dtype", "q8_0",
        ])
        #expect(convert.status != 0)
        #expect(convert.stderr.contains("--to gguf"), "\(convert.stderr)")
        #expect(temporary.contents().isEmpty)
    }
}

import Foundation
import TestSupport
import Testing

/// Every command that reads a checkpoint refuses a scaled fp8 one, naming the file and tensor.
@Suite struct ScaledFP8CLITests {
    @Test func everyCommandRefusesAScaledFP8File() throws {
        let temporary = TemporaryDirectory()
        let file = temporary.path("scaled.safetensors")
        try SafetensorsFixture.writeScaledFP8(at: file)
        let commands: [[String]] = [
            ["inspect", file.path],
            ["convert", file.path, temporary.path("out.safetensors").path, "--dtype", "fp16"],
            ["convert", file.path, temporary.path("unverified.safetensors").path, "--no-verify"],
            ["verify", file.path],
            ["verify", Fixtures.sample.path, file.path],
            ["run", file.path, "--input-ids", "5,6", "--decoder-input-ids", "0"],
        ]
        for arguments in commands {
            let run = try ZooBinary.run(arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(
                run.stderr.contains("\(file.path): tensor 'encoder.block.0.layer.0.SelfAttention.q.scale_weight'"),
                "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("zoo does not read scaled fp8 yet"), "\(arguments): \(run.stderr)")
        }
        #expect(!temporary.contents().contains { $0.hasPrefix("out") || $0.hasPrefix("unverified") })
    }
}

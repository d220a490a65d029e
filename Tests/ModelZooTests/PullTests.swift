import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import ModelZoo
@testable import Verify

/// `zoo pull` against a mirror laid out like the hub, with a real checkpoint of the
/// `t5-efficient-tiny` shape (zero weights: the shape is what the registry checks).
@Suite(.serialized) struct PullTests {
    static let name = "t5-efficient-tiny"
    static let mirror = Result { try makeMirror() }

    /// `<mirror>/google/t5-efficient-tiny/{config.json, pytorch_model.bin}` (62 MB), built once and
    /// kept at a fixed temporary path so repeated test runs reuse it instead of piling up copies.
    static func makeMirror() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-test-mirror-tiny-1")
        if FileManager.default.fileExists(
            atPath: root.appendingPathComponent("google/t5-efficient-tiny/config.json").path)
        {
            return root
        }
        let building = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-test-mirror-\(getpid())")
        try? FileManager.default.removeItem(at: building)
        let repo = building.appendingPathComponent("google/t5-efficient-tiny")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        let registry = try Registry.bundled()
        let config = try registry.requireEntry(name).architecture.config
        let tensors: [any TensorByteSource] = config.expectedTensors.compactMap { tensor in
            TensorSpec(name: tensor.name, dtype: .f32, shape: tensor.shape).map { Pattern(outputSpec: $0) }
        }
        try TorchZipWriter.writeFile(
            tensors, aliases: [], metadata: [:], at: repo.appendingPathComponent("pytorch_model.bin").path)
        try Data((config.configJSON(torchDType: "float32").prettyPrinted() + "\n").utf8).write(
            to: repo.appendingPathComponent("config.json"))
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.moveItem(at: building, to: root)
        return root
    }

    @Test func pullsFromADirectoryAndVerifies() throws {
        let home = TemporaryDirectory()
        let report = try Puller.pull(
            Self.name, from: .directory(try Self.mirror.get()), cache: ModelCache(home: home.url),
            registry: try Registry.bundled())
        #expect(report.parameters == 15_570_688)
        #expect(report.absent == ["operative_config.gin"])
        let model = home.url.appendingPathComponent("models/\(Self.name)")
        #expect(try ChecksumManifest.check(model.appendingPathComponent("SHA256SUMS")).allSatisfy(\.passed))
        #expect(!FileManager.default.fileExists(atPath: home.url.appendingPathComponent("partial/\(Self.name)").path))
        // A second pull finds it complete and downloads nothing.
        let again = try Puller.pull(
            Self.name, from: .directory(try Self.mirror.get()), cache: ModelCache(home: home.url),
            registry: try Registry.bundled())
        #expect(again.alreadyPresent)
    }

    @Test func resumesAnInterruptedTransfer() throws {
        let home = TemporaryDirectory()
        let server = try MirrorServer(serving: try Self.mirror.get(), cutAfter: 5_000_000)
        let registry = try Registry.bundled()
        let cache = ModelCache(home: home.url)
        #expect(throws: ModelZooError.self) {
            try Puller.pull(Self.name, from: .http(server.url), cache: cache, registry: registry)
        }
        let partial = home.url.appendingPathComponent("partial/\(Self.name)/pytorch_model.bin.part")
        let kept = (try FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
        #expect(kept == 5_000_000, "the interrupted bytes are kept")
        let report = try Puller.pull(Self.name, from: .http(server.url), cache: cache, registry: registry)
        let weights = try #require(report.files.first { $0.name == "pytorch_model.bin" })
        #expect(weights.resumedFrom == 5_000_000)
        #expect(report.parameters == 15_570_688)
    }

    @Test func rejectsACorruptedFileAndStartsOverNextTime() throws {
        let home = TemporaryDirectory()
        let corrupted = TemporaryDirectory()
        let repo = corrupted.url.appendingPathComponent("google/t5-efficient-tiny")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        let source = try Self.mirror.get().appendingPathComponent("google/t5-efficient-tiny")
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("config.json"), to: repo.appendingPathComponent("config.json"))
        var bytes = try Data(contentsOf: source.appendingPathComponent("pytorch_model.bin"))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: repo.appendingPathComponent("pytorch_model.bin"))
        #expect(throws: TorchError.self) {
            try Puller.pull(
                Self.name, from: .directory(corrupted.url), cache: ModelCache(home: home.url),
                registry: try Registry.bundled())
        }
        #expect(!FileManager.default.fileExists(atPath: home.url.appendingPathComponent("models/\(Self.name)").path))
        #expect(!FileManager.default.fileExists(atPath: home.url.appendingPathComponent("partial/\(Self.name)").path))
    }

    @Test func refusesSharedParameterVariantsAndUnknownNames() throws {
        let registry = try Registry.bundled()
        #expect(throws: ModelZooError.self) {
            try Puller.pull("t5-efficient-tiny-sh", from: .directory(try Self.mirror.get()), registry: registry)
        }
        #expect(throws: ModelZooError.self) {
            try Puller.pull("t5-efficient-teeny", from: .directory(try Self.mirror.get()), registry: registry)
        }
    }

    @Test func canKeepTheCacheCompressed() throws {
        let home = TemporaryDirectory()
        let report = try Puller.pull(
            Self.name, from: .directory(try Self.mirror.get()), compress: true, cache: ModelCache(home: home.url),
            registry: try Registry.bundled())
        let files = try FileManager.default.contentsOfDirectory(atPath: report.destination.path).sorted()
        #expect(files == ["SHA256SUMS", "config.json", "pytorch_model.bin.zst"])
        #expect(try T5Model(try Checkpoint.open(report.destination)).parameterCount == 15_570_688)
    }

    @Test func convertsOnTheWayIn() throws {
        let home = TemporaryDirectory()
        let destination = home.path("tiny-bf16")
        let report = try Puller.pull(
            Self.name, from: .directory(try Self.mirror.get()), into: destination, format: .safetensors,
            cache: ModelCache(home: home.url), registry: try Registry.bundled())
        #expect(report.destination == destination)
        let checkpoint = try Checkpoint.open(destination)
        #expect(checkpoint.format == .safetensors)
        #expect(FileManager.default.fileExists(atPath: destination.appendingPathComponent("SHA256SUMS").path))
        // Converted like `zoo convert`: checked against the download before it was installed.
        let parity = try #require(report.conversion?.parity)
        #expect(parity.passed && parity.logits != nil)
        #expect(parity.tensors.bitExactCount == parity.tensors.tensors.count)
    }
}

/// A deterministic non-zero pattern, so corrupting a byte changes a value.
private struct Pattern: TensorByteSource {
    let outputSpec: TensorSpec

    func emit(into sink: inout some ByteSink) throws {
        let chunk = (0..<(1 << 18)).map { Float($0 % 97) * 0.01 }
        var left = outputSpec.elementCount
        while left > 0 {
            let count = min(left, chunk.count)
            try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<(count * 4)])) }
            left -= count
        }
    }
}

import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct ZstdTests {
    @Test func compressedCheckpointsReadBackBitForBit() throws {
        let temporary = TemporaryDirectory()
        let compressed = temporary.path("model.safetensors.zst")
        try Zstd.compress(Fixtures.sample.appendingPathComponent("model.safetensors"), to: compressed)
        let original = try Checkpoint.open(Fixtures.sample)
        let read = try Checkpoint.open(compressed)
        #expect(read.format == .safetensors && read.location == compressed)
        #expect(read.tensors.map(\.name) == original.tensors.map(\.name))
        for (left, right) in zip(read.tensors, original.tensors) { #expect(left.firstDifference(from: right) == nil) }
        #expect(temporary.contents() == ["model.safetensors.zst"], "the decompressed copy is not left on disk")
    }

    @Test func aDirectoryMayHoldCompressedWeights() throws {
        let temporary = TemporaryDirectory()
        try Zstd.compress(
            Fixtures.url("torch/sample_bin/pytorch_model.bin"), to: temporary.path("pytorch_model.bin.zst"))
        #expect(try Checkpoint.open(temporary.url).format == .pytorchZip)
    }

    @Test func corruptAndTruncatedFramesAreErrors() throws {
        let temporary = TemporaryDirectory()
        let good = temporary.path("good.zst")
        try Zstd.compress(Fixtures.url("dtypes.safetensors"), to: good)
        var bytes = try Data(contentsOf: good)
        let truncated = temporary.path("truncated.safetensors.zst")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        #expect(throws: CheckpointError.self) { try Checkpoint.open(truncated) }
        bytes[bytes.count / 2] ^= 0xFF
        bytes[bytes.count / 2 + 1] ^= 0xFF
        let corrupt = temporary.path("corrupt.safetensors.zst")
        try bytes.write(to: corrupt)
        #expect(throws: (any Error).self) { try Checkpoint.open(corrupt) }
    }
}

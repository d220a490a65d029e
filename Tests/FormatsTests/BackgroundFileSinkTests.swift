import Foundation
import TestSupport
import Testing

@testable import Formats

/// A tensor of `count` UInt32 values `0, 1, 2, ...`, emitted in chunks of awkward sizes.
private struct CountingTensor: TensorByteSource {
    let outputSpec: TensorSpec
    var failAfterBytes: Int?

    func emit(into sink: inout some ByteSink) throws {
        let count = outputSpec.elementCount
        var next = 0
        var emitted = 0
        while next < count {
            let n = min(12_345, count - next)
            let values = (next..<(next + n)).map { UInt32(truncatingIfNeeded: $0) }
            try values.withUnsafeBytes { try sink.write($0) }
            emitted += n * 4
            if let failAfterBytes, emitted >= failAfterBytes { throw CocoaError(.fileWriteOutOfSpace) }
            next += n
        }
    }
}

@Suite struct BackgroundFileSinkTests {
    @Test func writesManySlotsInOrder() throws {
        let temporary = TemporaryDirectory()
        // 20 MB: several slot rotations.
        let spec = try #require(TensorSpec(name: "big", dtype: .u32, shape: [5_000_000]))
        let path = temporary.path("big.safetensors").path
        try SafetensorsWriter.writeFile([CountingTensor(outputSpec: spec)], metadata: [:], at: path)
        let tensor = try #require(try SafetensorsReader.open(URL(fileURLWithPath: path)).tensors.first)
        let mismatch = tensor.withUnsafeBytes { bytes in
            (0..<spec.elementCount).first { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) != UInt32($0) }
        }
        #expect(mismatch == nil)
    }

    @Test func aFailingSourceStopsTheWriterAndThrows() throws {
        let temporary = TemporaryDirectory()
        let spec = try #require(TensorSpec(name: "big", dtype: .u32, shape: [5_000_000]))
        let path = temporary.path("partial.safetensors").path
        #expect(throws: CocoaError.self) {
            try SafetensorsWriter.writeFile(
                [CountingTensor(outputSpec: spec, failAfterBytes: 9_000_000)], metadata: [:], at: path)
        }
    }

    @Test func closeReportsWriteErrors() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let sink = try BackgroundFileSink(creating: "/dev/full")
        var output = sink
        let chunk = [UInt8](repeating: 1, count: 1 << 20)
        let error = #expect(throws: CheckpointError.self) {
            for _ in 0..<32 { try output.write(chunk) }
            try sink.close()
        }
        sink.abandon()
        #expect(error?.description.contains("No space left on device") == true)
    }
}

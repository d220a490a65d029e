import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct SafetensorsReaderTests {
    @Test func readsEveryDTypeWrittenBySafetensors() throws {
        let checkpoint = try SafetensorsReader.open(Fixtures.url("dtypes.safetensors"))
        #expect(checkpoint.metadata == ["format": "pt", "origin": "zoo fixture"])
        for dtype in DType.allCases where !dtype.isBlockQuantized {
            let tensor = try #require(checkpoint.tensor(named: "t_\(dtype.rawValue)"), "no tensor for \(dtype)")
            #expect(tensor.dtype == dtype)
            #expect(tensor.shape == [3, 4])
            #expect(tensor.withUnsafeBytes { Array($0) } == Self.arangeBytes(dtype), "\(dtype)")
        }
        let scalar = try #require(checkpoint.tensor(named: "scalar"))
        #expect(scalar.shape == [])
        #expect(scalar.withUnsafeBytes { $0.loadUnaligned(as: Float.self) } == 3.5)
        let empty = try #require(checkpoint.tensor(named: "empty"))
        #expect(empty.shape == [0, 4] && empty.spec.byteCount == 0)
    }

    @Test func readsTheSampleModel() throws {
        let checkpoint = try Checkpoint.open(Fixtures.sample)
        #expect(checkpoint.format == .safetensors)
        #expect(checkpoint.tensors.count == 63)
        #expect(checkpoint.tensor(named: "shared.weight")?.shape == [2048, 64])
        // Tensors come back in data order and tile the data buffer exactly.
        let offsets = checkpoint.tensors.map(\.fileOffset)
        #expect(offsets == offsets.sorted())
    }

    @Test func readsShardedCheckpointsAndCrossChecksTheIndex() throws {
        let sharded = try Checkpoint.open(Fixtures.url("sample_sharded"))
        let single = try Checkpoint.open(Fixtures.sample)
        #expect(sharded.format == .safetensorsSharded)
        #expect(sharded.files.count == 5)
        #expect(Set(sharded.tensors.map(\.name)) == Set(single.tensors.map(\.name)))
        for tensor in sharded.tensors {
            let twin = try #require(single.tensor(named: tensor.name))
            #expect(tensor.firstDifference(from: twin) == nil, "\(tensor.name)")
        }
    }

    @Test(arguments: try Fixtures.manifest("bad"))
    func rejectsMalformedFile(_ entry: (file: String, error: String)) throws {
        let url = Fixtures.url("bad/\(entry.file)")
        do {
            _ = try SafetensorsReader.open(url)
            Issue.record("\(entry.file) was accepted")
        } catch let error as SafetensorsError {
            #expect(error.caseName == entry.error, "\(entry.file): \(error)")
            #expect(error.description.contains(url.path), "the message names the file")
        }
    }

    @Test(arguments: try Fixtures.manifest("bad_sharded"))
    func rejectsMalformedShardedCheckpoint(_ entry: (file: String, error: String)) throws {
        do {
            _ = try Checkpoint.open(Fixtures.url("bad_sharded/\(entry.file)"))
            Issue.record("\(entry.file) was accepted")
        } catch let error as CheckpointError {
            #expect(error.caseName == entry.error, "\(entry.file): \(error)")
        }
    }

    @Test func errorsNameTheTensorAndByteOffset() throws {
        let error = #expect(throws: SafetensorsError.self) {
            try SafetensorsReader.open(Fixtures.url("bad/gap_in_offsets.safetensors"))
        }
        let message = try #require(error).description
        #expect(message.contains("'b'") && message.contains("byte offset"))
    }

    /// `torch.arange(12).to(dtype)` as raw little-endian bytes, as the fixture script wrote them.
    static func arangeBytes(_ dtype: DType) -> [UInt8] {
        let values = (0..<12).map(Double.init)
        func bytes<T>(_ converted: [T]) -> [UInt8] { converted.withUnsafeBytes { Array($0) } }
        switch dtype {
        case .f64: return bytes(values)
        case .f32: return bytes(values.map { Float($0) })
        case .f16: return bytes(values.map { Float16($0) })
        case .bf16: return bytes(values.map { UInt16(Float($0).bitPattern >> 16) })
        case .i64: return bytes((0..<12).map { Int64($0) })
        case .i32: return bytes((0..<12).map { Int32($0) })
        case .i16: return bytes((0..<12).map { Int16($0) })
        case .i8: return bytes((0..<12).map { Int8($0) })
        case .u8: return bytes((0..<12).map { UInt8($0) })
        case .u16: return bytes((0..<12).map { UInt16($0) })
        case .u32: return bytes((0..<12).map { UInt32($0) })
        case .u64: return bytes((0..<12).map { UInt64($0) })
        case .bool: return (0..<12).map { UInt8($0 % 2) }
        // e4m3fn: 0 then 1.0 = 0x38; each value is exact in 3 mantissa bits up to 11.
        case .f8e4m3: return [0x00, 0x38, 0x40, 0x44, 0x48, 0x4A, 0x4C, 0x4E, 0x50, 0x51, 0x52, 0x53]
        // e5m2 has 2 mantissa bits: 9 -> 8, 11 -> 12 (round to nearest even), as torch stored them.
        case .f8e5m2: return [0x00, 0x3C, 0x40, 0x42, 0x44, 0x45, 0x46, 0x47, 0x48, 0x48, 0x49, 0x4A]
        case .q8_0: return []  // not a safetensors dtype (the test skips it)
        }
    }
}

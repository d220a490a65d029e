import Foundation
import TestSupport
import Testing

@testable import Formats

/// PyTorch files written by torch itself, read back and compared with the same tensors that the
/// fixture script saved contiguously as safetensors (`Tests/Fixtures/torch/expected/`).
@Suite struct TorchReaderTests {
    static let fixtures = [
        ("sample_bin", CheckpointFormat.pytorchZip), ("sample_bin_sharded", .pytorchSharded),
        ("dtypes.bin", .pytorchZip),
        ("views.bin", .pytorchZip), ("nested.bin", .pytorchZip), ("legacy.bin", .pytorchLegacy),
        ("legacy_views.bin", .pytorchLegacy), ("sample_fp16.bin", .pytorchZip), ("sample_bf16.bin", .pytorchZip),
        // What torch 2.13 writes beyond the plain cases (make-fixtures.py, torch_compat).
        ("dtypes_v3.bin", .pytorchZip), ("expanded.bin", .pytorchZip), ("no_crc.bin", .pytorchZip),
        ("legacy_proto4.bin", .pytorchLegacy), ("legacy_proto5.bin", .pytorchLegacy), ("big_endian.bin", .pytorchZip),
    ]

    @Test(arguments: fixtures)
    func readsWhatTorchWroteBitForBit(_ fixture: (name: String, format: CheckpointFormat)) throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("torch/\(fixture.name)"))
        #expect(checkpoint.format == fixture.format)
        let stem = fixture.name.replacingOccurrences(of: ".bin", with: "")
        let expected = try SafetensorsReader.open(Fixtures.url("torch/expected/\(stem).safetensors"))
        let listing = try JSONParser.parse(Array(try Data(contentsOf: Fixtures.url("torch/expected/\(stem).json"))))

        let names = (listing["tensors"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(Set(checkpoint.tensors.map(\.name)) == Set(names))
        if fixture.format != .pytorchSharded { #expect(checkpoint.tensors.map(\.name) == names, "state-dict order") }
        // safetensors cannot store shared tensors, so the expected file holds each alias's target.
        let aliases = (listing["aliases"]?.members ?? []).reduce(into: [String: String]()) {
            $0[$1.key] = $1.value.stringValue
        }
        for tensor in checkpoint.tensors {
            guard let reference = expected.tensor(named: aliases[tensor.name] ?? tensor.name) else {
                Issue.record("\(tensor.name) is not expected")
                continue
            }
            #expect(tensor.dtype == reference.dtype && tensor.shape == reference.shape, "\(tensor.name)")
            #expect(tensor.firstDifference(from: reference) == nil, "\(tensor.name) differs")
        }
        let skipped = (listing["skipped"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(checkpoint.skipped.map { String($0.prefix { $0 != " " }) } == skipped)
    }

    @Test func tiedTensorsShareTheirBytes() throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("torch/sample_bin"))
        let shared = try #require(checkpoint.tensor(named: "shared.weight"))
        for alias in ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"] {
            let tensor = try #require(checkpoint.tensor(named: alias))
            #expect(
                tensor.fileOffset == shared.fileOffset && tensor.file === shared.file, "\(alias) is a view, not a copy")
        }
        // Shared bytes are counted once.
        #expect(
            checkpoint.tensorBytes
                == checkpoint.tensors.filter { !$0.name.contains("embed_tokens") && $0.name != "lm_head.weight" }
                .reduce(0) { $0 + $1.spec.byteCount })
    }

    @Test func contiguousTensorsAreNotCopied() throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("torch/views.bin"))
        let base = try #require(checkpoint.tensor(named: "base"))
        let row = try #require(checkpoint.tensor(named: "row"))
        let transposed = try #require(checkpoint.tensor(named: "transposed"))
        #expect(row.file === base.file && row.fileOffset == base.fileOffset + 4 * 10 * 4)
        #expect(transposed.file !== base.file, "a transpose is gathered into memory of its own")
    }

    @Test func membersWithoutACRCAreReadAndReportedUnverified() throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("torch/no_crc.bin"))
        #expect(checkpoint.unverified.contains("no_crc.bin: no_crc/data.pkl"))
        #expect(checkpoint.unverified.contains { $0.hasPrefix("no_crc.bin: no_crc/data/") })
        // Files that store their CRC-32s report nothing unverified.
        #expect(try Checkpoint.open(Fixtures.url("torch/views.bin")).unverified.isEmpty)
    }

    @Test func expandedViewsAreCopiedOutAtTheirOwnSize() throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("torch/expanded.bin"))
        let rows = try #require(checkpoint.tensor(named: "rows"))
        #expect(rows.shape == [3, 4] && rows.file.size == 3 * 4 * 4)
    }

    @Test func bigEndianFilesAreSwappedToLittleEndian() throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("torch/big_endian.bin"))
        let f32 = try #require(checkpoint.tensor(named: "f32"))
        let first = f32.withUnsafeBytes { ByteReader($0).integer(at: 0, as: UInt32.self) }
        #expect(first == Float(1.0).bitPattern)
    }

    @Test(arguments: try Fixtures.manifest("torch_bad"))
    func rejectsHostileFile(_ entry: (file: String, error: String)) throws {
        let url = Fixtures.url("torch_bad/\(entry.file)")
        do {
            _ = try Checkpoint.open(url)
            Issue.record("\(entry.file) was accepted")
        } catch let error as TorchError {
            #expect(error.caseName == entry.error, "\(entry.file): \(error)")
            #expect(error.description.contains(url.path))
        }
    }
}

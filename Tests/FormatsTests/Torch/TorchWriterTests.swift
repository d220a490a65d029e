import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct TorchWriterTests {
    @Test func roundTripsEveryStorageTypeWithAliases() throws {
        let temporary = TemporaryDirectory()
        let source = try Checkpoint.open(Fixtures.url("torch/dtypes.bin"))
        let path = temporary.path("out.bin").path
        try TorchZipWriter.writeFile(source.tensors, aliases: [("t_float_alias", "t_float")], metadata: [:], at: path)

        let copy = try Checkpoint.open(URL(fileURLWithPath: path))
        #expect(copy.format == .pytorchZip)
        #expect(copy.tensors.map(\.name) == source.tensors.map(\.name) + ["t_float_alias"])
        for tensor in source.tensors {
            let written = try #require(copy.tensor(named: tensor.name))
            #expect(written.firstDifference(from: tensor) == nil, "\(tensor.name)")
        }
        let alias = try #require(copy.tensor(named: "t_float_alias"))
        let original = try #require(copy.tensor(named: "t_float"))
        #expect(alias.fileOffset == original.fileOffset, "an alias names the same storage")
    }

    @Test func alignsEveryMemberTo64BytesAndRecordsWhatTorchWrites() throws {
        let temporary = TemporaryDirectory()
        let source = try Checkpoint.open(Fixtures.sample)
        let path = temporary.path("pytorch_model.bin").path
        try TorchZipWriter.writeFile(source.tensors, aliases: [], metadata: [:], at: path)
        let archive = try ZipArchive(try MappedFile(path: path))
        let names = archive.members.map(\.name)
        #expect(
            names.prefix(4) == [
                "pytorch_model/data.pkl", "pytorch_model/.format_version",
                "pytorch_model/.storage_alignment", "pytorch_model/byteorder",
            ])
        #expect(names.suffix(2) == ["pytorch_model/version", "pytorch_model/.data/serialization_id"])
        for member in archive.members { #expect(member.dataRange.lowerBound % 64 == 0, "\(member.name)") }
    }

    @Test func writesTheSameBytesTwice() throws {
        let temporary = TemporaryDirectory()
        let source = try Checkpoint.open(Fixtures.sample)
        // The archive's top folder is the file's stem, so both copies get the same name.
        let first = temporary.path("a")
        let second = temporary.path("b")
        for directory in [first, second] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try TorchZipWriter.writeFile(
                source.tensors, aliases: [], metadata: [:],
                at: directory.appendingPathComponent("pytorch_model.bin").path)
        }
        #expect(
            try Data(contentsOf: first.appendingPathComponent("pytorch_model.bin"))
                == (try Data(contentsOf: second.appendingPathComponent("pytorch_model.bin"))))
    }
}

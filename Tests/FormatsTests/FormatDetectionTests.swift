import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct FormatDetectionTests {
    @Test func detectsSafetensorsFromBytesNotName() throws {
        let temporary = TemporaryDirectory()
        let renamed = temporary.path("weights.bin")
        try FileManager.default.copyItem(at: Fixtures.url("dtypes.safetensors"), to: renamed)
        #expect(try Checkpoint.open(renamed).format == .safetensors)
    }

    @Test func aZipNamedSafetensorsIsReadAsAZip() throws {
        let temporary = TemporaryDirectory()
        let zip = temporary.path("model.safetensors")
        try Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 40)).write(to: zip)
        #expect(throws: TorchError.endOfCentralDirectoryMissing(path: zip.path)) { try Checkpoint.open(zip) }
    }

    @Test func rejectsUnknownBytesWithTheirHex() throws {
        let temporary = TemporaryDirectory()
        let junk = temporary.path("junk.bin")
        try Data("hello world".utf8).write(to: junk)
        let error = #expect(throws: CheckpointError.self) { try Checkpoint.open(junk) }
        #expect(error?.description.contains("68 65 6c 6c 6f") == true)
    }

    @Test func findsTheCheckpointInADirectory() throws {
        #expect(try Checkpoint.open(Fixtures.url("sample_sharded")).format == .safetensorsSharded)
        let temporary = TemporaryDirectory()
        #expect(throws: CheckpointError.noCheckpointInDirectory(path: temporary.url.path, contents: [])) {
            try Checkpoint.open(temporary.url)
        }
        #expect(throws: CheckpointError.self) { try Checkpoint.open(temporary.path("absent")) }
    }
}

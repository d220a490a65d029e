import Foundation
import TestSupport
import Testing

@testable import Formats

/// What a tensor's storage does with the bytes it holds, and with a file that shrinks under it.
@Suite struct TensorStorageTests {
    @Test func aShortReadOfATruncatedFileNamesTheFileAndTheOffset() throws {
        let temporary = TemporaryDirectory()
        let path = temporary.path("weights.bin").path
        try Data(repeating: 7, count: 3 * 4096).write(to: URL(fileURLWithPath: path))
        let file = try MappedFile(path: path)
        #expect(truncate(path, 5000) == 0)
        var buffer = [UInt8](repeating: 0, count: 8192)
        let thrown = #expect(throws: CheckpointError.self) {
            try buffer.withUnsafeMutableBytes { try file.read(4096..<12288, into: $0.baseAddress!) }
        }
        #expect(thrown == .truncatedWhileReading(path: path, offset: 5000))
        #expect(buffer[0..<904].allSatisfy { $0 == 7 }, "the bytes before the new end were read")
    }

    @Test func anonymousStorageIsReadLikeAFile() throws {
        let storage = try AnonymousStorage(name: "scratch", byteCount: 10) { buffer in
            for index in buffer.indices { buffer[index] = UInt8(index) }
        }
        #expect(try storage.bytes(in: 2..<5) == [2, 3, 4])
        #expect(storage.withBytesOnce(in: 0..<10) { Array($0) } == Array(0..<10))
        var chunks: [[UInt8]] = []
        try storage.forEachChunk(in: 1..<10, chunkSize: 4, alignment: 2) { chunks.append(Array($0)) }
        #expect(chunks == [[1, 2, 3, 4], [5, 6, 7, 8], [9]])
        let empty = try AnonymousStorage(name: "empty", byteCount: 0) { _ in }
        #expect(try empty.bytes(in: 0..<0).isEmpty)
    }
}

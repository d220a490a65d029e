import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct SSTableTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        let crc = Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) }
        #expect(crc == 0xE306_9283)
        #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
        // Chunked computation equals one pass.
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = data.withUnsafeBytes { CRC32C.checksum($0) }
        let parts = data.withUnsafeBytes { bytes in
            CRC32C.checksum(
                UnsafeRawBufferPointer(rebasing: bytes[50_000...]),
                continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<50_000])))
        }
        #expect(whole == parts)
    }

    /// `count` sorted entries with shared prefixes, as a bundle index has.
    private func entries(_ count: Int) -> [(key: [UInt8], value: [UInt8])] {
        (0..<count).map { index in
            (
                Array(String(format: "encoder/block_%03d/layer_000/SelfAttention/q%05d", index / 10, index).utf8),
                Array("value \(index)".utf8)
            )
        }
    }

    private func write(_ bytes: [UInt8]) throws -> MappedFile {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-sstable-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try MappedFile(path: url.path)
    }

    @Test(arguments: [0, 1, 17, 2000])
    func roundTrips(_ count: Int) throws {
        let source = entries(count)
        let table = try SSTable(try write(SSTableWriter.table(source)))
        #expect(table.entries.count == count)
        for (entry, expected) in zip(table.entries, source) {
            #expect(entry.key == expected.key)
            #expect(table.file.withBytes(in: entry.value) { Array($0) } == expected.value)
        }
        if count > 0 { #expect(table.value(for: String(decoding: source[count / 2].key, as: UTF8.self)) != nil) }
    }

    @Test func aFlippedBitFailsItsBlockChecksum() throws {
        var bytes = SSTableWriter.table(entries(50))
        bytes[100] ^= 0x04
        do {
            _ = try SSTable(try write(bytes))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "badBlockChecksum") }
    }

    @Test func aWrongMagicIsNotATable() throws {
        var bytes = SSTableWriter.table(entries(5))
        bytes[bytes.count - 1] ^= 0xFF
        do {
            _ = try SSTable(try write(bytes))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "badFooterMagic") }
        do {
            _ = try SSTable(try write([1, 2, 3]))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "tooSmall") }
    }

    @Test func aHandlePastTheEndIsRefused() throws {
        var bytes = SSTableWriter.table(entries(5))
        // The footer's second handle (the index block): point its offset far past the end.
        let footer = bytes.count - 48
        var reader = VarintReaderProbe(bytes, footer)
        let indexStart = reader.skipHandle()
        let patched = SSTableWriter.varint(1 << 40) + SSTableWriter.varint(10)
        bytes.replaceSubrange(indexStart..<(indexStart + patched.count), with: patched)
        do {
            _ = try SSTable(try write(bytes))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "blockHandleOutOfBounds") }
    }

    @Test func aCompressedBlockIsRefusedByName() throws {
        var bytes = SSTableWriter.table(entries(5))
        // The first data block starts at 0; its trailer follows its contents. Set type 1 (Snappy)
        // and recompute the CRC so only the type is wrong.
        let contentsEnd = try firstBlockEnd(bytes)
        bytes[contentsEnd] = 1
        let crc = bytes[0...contentsEnd].withUnsafeBytes { CRC32C.mask(CRC32C.checksum($0)) }
        bytes.replaceSubrange(
            (contentsEnd + 1)..<(contentsEnd + 5), with: withUnsafeBytes(of: crc.littleEndian) { Array($0) })
        do {
            _ = try SSTable(try write(bytes))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "compressedBlock") }
    }

    @Test func aSharedPrefixLongerThanThePreviousKeyIsRefused() throws {
        // One block: entry 1 claims to share 9 bytes with a 2-byte previous key.
        var block = [UInt8]()
        block += [0, 2, 1] + Array("ab".utf8) + [7]
        block += [9, 1, 1] + Array("c".utf8) + [8]
        block += [0, 0, 0, 0, 1, 0, 0, 0]
        do {
            _ = try SSTable(try write(rawTable(dataBlocks: [(block, Array("zz".utf8))])))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "sharedPrefixTooLong") }
    }

    @Test func unsortedKeysAreRefused() throws {
        func block(_ key: String) -> [UInt8] {
            [0, UInt8(key.utf8.count), 1] + Array(key.utf8) + [1] + [0, 0, 0, 0, 1, 0, 0, 0]
        }
        do {
            _ = try SSTable(
                try write(rawTable(dataBlocks: [(block("m"), Array("m".utf8)), (block("b"), Array("n".utf8))])))
            Issue.record("accepted")
        } catch let error as TensorFlowError { #expect(error.caseName == "unsortedKeys") }
    }

    /// A table from raw block contents (each with its index separator), trailers and footer added.
    private func rawTable(dataBlocks: [([UInt8], [UInt8])]) -> [UInt8] {
        var output: [UInt8] = []
        func append(_ contents: [UInt8]) -> [UInt8] {
            let handle = SSTableWriter.varint(UInt64(output.count)) + SSTableWriter.varint(UInt64(contents.count))
            let typed = contents + [0]
            let crc = typed.withUnsafeBytes { CRC32C.mask(CRC32C.checksum($0)) }
            output += typed + withUnsafeBytes(of: crc.littleEndian) { Array($0) }
            return handle
        }
        var index: [UInt8] = []
        var restarts: [UInt32] = []
        for (contents, separator) in dataBlocks {
            let handle = append(contents)
            restarts.append(UInt32(index.count))
            index += [0, UInt8(separator.count), UInt8(handle.count)] + separator + handle
        }
        for restart in restarts { index += withUnsafeBytes(of: restart.littleEndian) { Array($0) } }
        index += withUnsafeBytes(of: UInt32(restarts.count).littleEndian) { Array($0) }
        let meta = append([0, 0, 0, 0, 1, 0, 0, 0])
        let indexHandle = append(index)
        var footer = meta + indexHandle
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += withUnsafeBytes(of: SSTable.magic.littleEndian) { Array($0) }
        return output + footer
    }

    /// Where the only data block's contents end (its trailer starts): the metaindex block follows it.
    private func firstBlockEnd(_ bytes: [UInt8]) throws -> Int {
        var reader = VarintReaderProbe(bytes, bytes.count - 48)
        _ = reader.skipHandle()
        return reader.firstOffset - 5
    }
}

/// Reads the footer's varints in tests.
private struct VarintReaderProbe {
    let bytes: [UInt8]
    var position: Int
    private(set) var firstOffset = 0

    init(_ bytes: [UInt8], _ position: Int) {
        self.bytes = bytes
        self.position = position
    }

    mutating func varint() -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = bytes[position]
            position += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// Skips the first handle (remembering its offset) and returns where the second starts.
    mutating func skipHandle() -> Int {
        firstOffset = varint()
        _ = varint()
        return position
    }
}

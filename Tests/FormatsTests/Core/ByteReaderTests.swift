import Formats
import Testing

/// The checked reader every format parses through: no offset, count or varint a file can hold
/// makes it read outside its window or trap.
@Suite struct ByteReaderTests {
    private let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A]

    @Test func readsLittleEndianIntegersAtAbsoluteOffsets() {
        bytes.withUnsafeBytes { raw in
            let reader = ByteReader(raw)
            #expect(reader.integer(at: 0, as: UInt32.self) == 0x0403_0201)
            #expect(reader.integer(at: 6, as: UInt32.self) == 0x0A09_0807)
            #expect(reader.bigEndianInteger(at: 0, as: UInt16.self) == 0x0102)
            #expect(reader.integer(at: 7, as: UInt32.self) == nil)  // one byte short
            #expect(reader.offset == 0)  // absolute reads do not move
        }
    }

    @Test(arguments: [Int.min, -1, 10, 11, Int.max])
    func refusesOffsetsOutsideTheBuffer(offset: Int) {
        bytes.withUnsafeBytes { raw in
            let reader = ByteReader(raw)
            #expect(reader.integer(at: offset, as: UInt8.self) == nil)
            #expect(reader.bytes(at: offset, count: 1) == nil)
        }
    }

    @Test func takesFileWideNumbersWithoutConvertingThemFirst() {
        bytes.withUnsafeBytes { raw in
            let reader = ByteReader(raw)
            // 64-bit offsets and counts as read from a file: none may trap, none may succeed.
            #expect(reader.range(at: UInt64.max, count: 1) == nil)
            #expect(reader.range(at: 1, count: UInt64.max) == nil)
            #expect(reader.range(at: Int.max, count: Int.max) == nil)
            #expect(reader.range(at: 4, count: -1) == nil)
            #expect(reader.range(at: 10, count: 0) == 10..<10)
            #expect(reader.range(at: 2, count: UInt64(8)) == 2..<10)
        }
    }

    @Test func windowsKeepTheFilesOffsetsAndTheirOwnBounds() throws {
        try bytes.withUnsafeBytes { raw in
            let reader = ByteReader(raw)
            var window = try #require(reader.window(at: 2, count: 4))
            #expect(window.offset == 2 && window.remaining == 4)
            #expect(window.integer(at: 2, as: UInt8.self) == 0x03)
            #expect(window.integer(at: 1, as: UInt8.self) == nil)  // before the window
            #expect(window.integer(at: 6, as: UInt8.self) == nil)  // after it
            let short = window.readInteger(as: UInt16.self)
            #expect(short == 0x0403)
            let pastTheEnd = window.readInteger(as: UInt32.self)  // only 2 left: does not move
            #expect(pastTheEnd == nil)
            #expect(window.offset == 4)
            let lastTwo = window.readBytes(2).map(Array.init)
            #expect(lastTwo == [0x05, 0x06])
            #expect(window.isAtEnd)
            #expect(reader.window(at: 8, count: 3)?.offset == nil)
            #expect(window.window(at: 0, count: 2)?.offset == nil)  // a window never widens
        }
    }

    @Test func relativeReadsRefuseWithoutMoving() {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            let skipped = reader.skip(8)
            #expect(skipped)
            let pastTheEnd = reader.skip(3)
            #expect(!pastTheEnd)
            let huge = reader.readBytes(UInt64.max)
            #expect(huge == nil)
            let negative = reader.readRange(-1)
            #expect(negative == nil)
            #expect(reader.offset == 8)
            let tail = reader.readRange(2)
            #expect(tail == 8..<10)
        }
    }

    @Test func findsAByteWithinALimit() {
        bytes.withUnsafeBytes { raw in
            let reader = ByteReader(raw)
            #expect(reader.firstIndex(of: 0x05, from: 1, limit: 10) == 4)
            #expect(reader.firstIndex(of: 0x05, from: 1, limit: 3) == nil)
            #expect(reader.firstIndex(of: 0x05, from: 11, limit: 3) == nil)
            #expect(reader.firstIndex(of: 0x0A, from: 0, limit: Int.max) == 9)
        }
    }

    @Test(
        arguments: [
            ([0x00], UInt64(0)), ([0x7F], 127), ([0x80, 0x01], 128), ([0xAC, 0x02], 300),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], UInt64.max),
        ] as [([UInt8], UInt64)])
    func decodesVarints(encoded: [UInt8], value: UInt64) {
        encoded.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            let value = reader.readVarint()
            #expect(value == value)
            #expect(reader.isAtEnd)
        }
    }

    @Test(
        arguments: [
            [0x80],  // runs past the end
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],  // a 65th bit
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // eleven bytes
        ] as [[UInt8]])
    func refusesVarintsThatDoNotFit(encoded: [UInt8]) {
        encoded.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            let value = reader.readVarint()
            #expect(value == nil)
            #expect(reader.offset == 0)
        }
    }

    @Test func checkedArithmeticReportsOverflow() {
        #expect(Int.max.checkedAdding(1) == nil)
        #expect(Int.min.checkedAdding(-1) == nil)
        #expect(3.checkedAdding(4) == 7)
        #expect((Int.max / 2 + 1).checkedMultiplying(by: 2) == nil)
        #expect([1 << 32, 1 << 31].checkedProduct() == nil)
        #expect([3, 4, 5].checkedProduct() == 60)
        #expect([Int]().checkedProduct() == 1)
    }
}

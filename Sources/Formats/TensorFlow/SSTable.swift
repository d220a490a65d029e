/// A LevelDB-format sorted table, as TensorFlow writes a checkpoint's `.index` file: data blocks
/// of prefix-compressed entries with restart points, an index block pointing at them, a
/// metaindex block, and a 48-byte footer ending in a magic number. Every block carries a masked
/// CRC-32C that is checked when it is read.
public struct SSTable: Sendable {
    /// The magic number ending the footer (`0xdb4775248b80fb57`, little-endian).
    static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    static let footerSize = 48
    static let trailerSize = 5

    /// One entry: its key and where its value is in the file.
    public struct Entry: Sendable {
        public let key: [UInt8]
        public let value: Range<Int>
    }

    public let file: MappedFile
    /// Every entry, in key order.
    public let entries: [Entry]

    /// Reads and checks the whole table in `file`.
    ///
    /// - Throws: `TensorFlowError` for a bad footer, a block past the file, a block CRC that fails,
    ///   a compressed block, malformed entries, or keys out of order.
    public init(_ file: MappedFile) throws(TensorFlowError) {
        self.file = file
        let path = file.path
        entries = try file.withBytes(in: 0..<file.size) { bytes throws(TensorFlowError) in
            guard bytes.count >= Self.footerSize else { throw .tooSmall(path: path, size: bytes.count) }
            let footerStart = bytes.count - Self.footerSize
            guard bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self).littleEndian == Self.magic
            else {
                throw .badFooterMagic(path: path, offset: bytes.count - 8)
            }
            var footer = VarintReader(bytes, from: footerStart, to: bytes.count - 8)
            guard let _ = footer.handle(), let index = footer.handle() else {
                throw .malformedBlock(path: path, offset: footerStart, reason: "unreadable block handles in the footer")
            }
            let indexEntries = try Self.readBlock(bytes, handle: index, limit: footerStart, path: path)
            var entries: [Entry] = []
            var previous: [UInt8]?
            for indexEntry in indexEntries {
                var value = VarintReader(bytes, from: indexEntry.value.lowerBound, to: indexEntry.value.upperBound)
                guard let handle = value.handle() else {
                    throw .malformedBlock(
                        path: path, offset: indexEntry.value.lowerBound, reason: "index value is not a block handle")
                }
                for entry in try Self.readBlock(bytes, handle: handle, limit: footerStart, path: path) {
                    if let previous, !previous.lexicographicallyPrecedes(entry.key) {
                        throw .unsortedKeys(
                            path: path, offset: entry.value.lowerBound, key: String(decoding: entry.key, as: UTF8.self))
                    }
                    previous = entry.key
                    entries.append(entry)
                }
            }
            return entries
        }
    }

    /// The value of `key`, if the table has it.
    public func value(for key: String) -> Range<Int>? {
        let target = Array(key.utf8)
        return entries.first { $0.key == target }?.value
    }

    /// The entries of the block `handle` points at, after checking its bounds, type and CRC.
    private static func readBlock(
        _ bytes: UnsafeRawBufferPointer, handle: (offset: UInt64, size: UInt64), limit: Int, path: String
    ) throws(TensorFlowError) -> [Entry] {
        guard handle.offset <= UInt64(limit), handle.size <= UInt64(limit) - handle.offset,
            Int(handle.offset + handle.size) + trailerSize <= limit
        else {
            throw .blockHandleOutOfBounds(
                path: path, offset: Int(clamping: handle.offset), size: Int(clamping: handle.size),
                fileSize: bytes.count)
        }
        let start = Int(handle.offset)
        let end = start + Int(handle.size)
        let type = bytes[end]
        let stored = CRC32C.unmask(bytes.loadUnaligned(fromByteOffset: end + 1, as: UInt32.self).littleEndian)
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<(end + 1)]))
        guard stored == actual else {
            throw .badBlockChecksum(path: path, offset: start, expected: stored, actual: actual)
        }
        guard type == 0 else { throw .compressedBlock(path: path, offset: start, type: type) }
        return try parseEntries(bytes, start..<end, path: path)
    }

    /// Decodes `shared, non_shared, value_length, key delta, value` entries up to the restart array.
    private static func parseEntries(_ bytes: UnsafeRawBufferPointer, _ block: Range<Int>, path: String)
        throws(TensorFlowError) -> [Entry]
    {
        guard block.count >= 4 else {
            throw .malformedBlock(path: path, offset: block.lowerBound, reason: "shorter than its restart count")
        }
        let restarts = Int(bytes.loadUnaligned(fromByteOffset: block.upperBound - 4, as: UInt32.self).littleEndian)
        guard restarts >= 1, restarts <= (block.count - 4) / 4 else {
            throw .malformedBlock(path: path, offset: block.lowerBound, reason: "\(restarts) restart points do not fit")
        }
        let entriesEnd = block.upperBound - 4 - 4 * restarts
        var reader = VarintReader(bytes, from: block.lowerBound, to: entriesEnd)
        var entries: [Entry] = []
        var key: [UInt8] = []
        while !reader.atEnd {
            let entryOffset = reader.position
            guard let shared = reader.varint(), let unshared = reader.varint(), let valueLength = reader.varint() else {
                throw .malformedBlock(path: path, offset: entryOffset, reason: "truncated entry header")
            }
            guard shared <= UInt64(key.count) else {
                throw .sharedPrefixTooLong(
                    path: path, offset: entryOffset, shared: Int(clamping: shared), previous: key.count)
            }
            guard let delta = reader.bytes(unshared), let value = reader.range(valueLength) else {
                throw .malformedBlock(path: path, offset: entryOffset, reason: "entry runs past its block")
            }
            key = Array(key.prefix(Int(shared))) + Array(delta)
            entries.append(Entry(key: key, value: value))
        }
        return entries
    }
}

/// Reads LevelDB varints from a byte range, never past its end.
struct VarintReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    private let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        self.bytes = bytes
        position = start
        self.end = end
    }

    var atEnd: Bool { position >= end }

    /// A base-128 varint of at most 10 bytes, or `nil` if it runs past the end or overflows.
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard position < end else { return nil }
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }

    /// A block handle: `varint offset, varint size`.
    mutating func handle() -> (offset: UInt64, size: UInt64)? {
        guard let offset = varint(), let size = varint() else { return nil }
        return (offset, size)
    }

    /// The next `count` bytes, or `nil` if fewer remain.
    mutating func bytes(_ count: UInt64) -> UnsafeRawBufferPointer? {
        guard let range = range(count) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// The range of the next `count` bytes, or `nil` if fewer remain.
    mutating func range(_ count: UInt64) -> Range<Int>? {
        guard count <= UInt64(end - position) else { return nil }
        defer { position += Int(count) }
        return position..<(position + Int(count))
    }
}

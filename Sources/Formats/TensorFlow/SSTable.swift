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
            let table = ByteReader(bytes)
            guard bytes.count >= Self.footerSize else { throw .tooSmall(path: path, size: bytes.count) }
            let footerStart = bytes.count - Self.footerSize
            guard table.integer(at: bytes.count - 8, as: UInt64.self) == Self.magic else {
                throw .badFooterMagic(path: path, offset: bytes.count - 8)
            }
            guard var footer = table.window(at: footerStart, count: Self.footerSize - 8),
                Self.readHandle(&footer) != nil, let index = Self.readHandle(&footer)
            else {
                throw .malformedBlock(path: path, offset: footerStart, reason: "unreadable block handles in the footer")
            }
            // Blocks live before the footer: a handle reaching into it is out of bounds.
            guard let blocks = table.window(at: 0, count: footerStart) else {
                throw .tooSmall(path: path, size: bytes.count)
            }
            let indexEntries = try Self.readBlock(blocks, handle: index, path: path)
            var entries: [Entry] = []
            var previous: [UInt8]?
            for indexEntry in indexEntries {
                guard var value = table.window(at: indexEntry.value.lowerBound, count: indexEntry.value.count),
                    let handle = Self.readHandle(&value)
                else {
                    throw .malformedBlock(
                        path: path, offset: indexEntry.value.lowerBound, reason: "index value is not a block handle")
                }
                for entry in try Self.readBlock(blocks, handle: handle, path: path) {
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

    /// A block handle: `varint offset, varint size`.
    private static func readHandle(_ reader: inout ByteReader) -> (offset: UInt64, size: UInt64)? {
        guard let offset = reader.readVarint(), let size = reader.readVarint() else { return nil }
        return (offset, size)
    }

    /// The entries of the block `handle` points at, after checking its bounds, type and CRC.
    ///
    /// - Parameter blocks: the part of the file blocks may occupy (everything before the footer).
    private static func readBlock(
        _ blocks: ByteReader, handle: (offset: UInt64, size: UInt64), path: String
    ) throws(TensorFlowError) -> [Entry] {
        // The block is followed by its trailer: a type byte and the masked CRC-32C of block + type.
        guard let block = blocks.range(at: handle.offset, count: handle.size),
            let typed = blocks.bytes(at: block.lowerBound, count: block.count + 1),
            let type = blocks.integer(at: block.upperBound, as: UInt8.self),
            let masked = blocks.integer(at: block.upperBound + 1, as: UInt32.self)
        else {
            throw .blockHandleOutOfBounds(
                path: path, offset: handle.offset, size: handle.size, fileSize: blocks.bounds.upperBound + footerSize)
        }
        let stored = CRC32C.unmask(masked)
        let actual = CRC32C.checksum(typed)
        guard stored == actual else {
            throw .badBlockChecksum(path: path, offset: block.lowerBound, expected: stored, actual: actual)
        }
        guard type == 0 else { throw .compressedBlock(path: path, offset: block.lowerBound, type: type) }
        return try parseEntries(blocks, block, path: path)
    }

    /// Decodes `shared, non_shared, value_length, key delta, value` entries up to the restart array.
    private static func parseEntries(_ blocks: ByteReader, _ block: Range<Int>, path: String)
        throws(TensorFlowError) -> [Entry]
    {
        guard block.count >= 4, let restartCount = blocks.integer(at: block.upperBound - 4, as: UInt32.self) else {
            throw .malformedBlock(path: path, offset: block.lowerBound, reason: "shorter than its restart count")
        }
        let restarts = Int(restartCount)
        guard restarts >= 1, restarts <= (block.count - 4) / 4,
            var reader = blocks.window(at: block.lowerBound, count: block.count - 4 - 4 * restarts)
        else {
            throw .malformedBlock(path: path, offset: block.lowerBound, reason: "\(restarts) restart points do not fit")
        }
        var entries: [Entry] = []
        var key: [UInt8] = []
        while !reader.isAtEnd {
            let entryOffset = reader.offset
            guard let shared = reader.readVarint(), let unshared = reader.readVarint(),
                let valueLength = reader.readVarint()
            else {
                throw .malformedBlock(path: path, offset: entryOffset, reason: "truncated entry header")
            }
            guard shared <= UInt64(key.count) else {
                throw .sharedPrefixTooLong(
                    path: path, offset: entryOffset, shared: Int(clamping: shared), previous: key.count)
            }
            guard let delta = reader.readBytes(unshared), let value = reader.readRange(valueLength) else {
                throw .malformedBlock(path: path, offset: entryOffset, reason: "entry runs past its block")
            }
            key = Array(key.prefix(Int(shared))) + Array(delta)
            entries.append(Entry(key: key, value: value))
        }
        return entries
    }
}

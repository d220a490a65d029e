/// Builds LevelDB-format tables as TensorFlow writes checkpoint indexes: uncompressed blocks of
/// about 4 KiB, a restart point every 16 entries, an empty metaindex block, a 48-byte footer.
///
/// Index files hold one small entry per tensor, so the table is built in memory.
public enum SSTableWriter {
    static let blockSize = 4096
    static let restartInterval = 16

    /// The table bytes for `entries`, which must be sorted by key with no duplicates.
    public static func table(_ entries: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        precondition(
            zip(entries, entries.dropFirst()).allSatisfy { $0.key.lexicographicallyPrecedes($1.key) },
            "keys must be sorted")
        var output: [UInt8] = []
        var index = BlockBuilder(restartInterval: 1)
        var block = BlockBuilder(restartInterval: restartInterval)
        var lastKey: [UInt8] = []

        func flush() {
            guard !block.isEmpty else { return }
            let handle = append(block.finish(), to: &output)
            // The block's last key is a valid separator: not less than its keys, less than the next block's.
            index.add(key: lastKey, value: handle)
            block = BlockBuilder(restartInterval: restartInterval)
        }
        for entry in entries {
            block.add(key: entry.key, value: entry.value)
            lastKey = entry.key
            if block.size >= blockSize { flush() }
        }
        flush()
        var metaindex = BlockBuilder(restartInterval: restartInterval)
        let metaindexHandle = append(metaindex.finish(), to: &output)
        let indexHandle = append(index.finish(), to: &output)
        var footer = metaindexHandle + indexHandle
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += withUnsafeBytes(of: SSTable.magic.littleEndian) { Array($0) }
        return output + footer
    }

    /// Appends `contents` with its trailer (type 0, masked CRC-32C) and returns its encoded handle.
    private static func append(_ contents: [UInt8], to output: inout [UInt8]) -> [UInt8] {
        let handle = varint(UInt64(output.count)) + varint(UInt64(contents.count))
        let typed = contents + [0]
        let crc = typed.withUnsafeBytes { CRC32C.mask(CRC32C.checksum($0)) }
        output += typed + withUnsafeBytes(of: crc.littleEndian) { Array($0) }
        return handle
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }
}

/// One block's entries, prefix-compressed against the previous key, with restart points.
private struct BlockBuilder {
    let restartInterval: Int
    private var bytes: [UInt8] = []
    private var restarts: [UInt32] = [0]
    private var sinceRestart = 0
    private var previous: [UInt8] = []

    init(restartInterval: Int) {
        self.restartInterval = restartInterval
    }

    var isEmpty: Bool { bytes.isEmpty }
    var size: Int { bytes.count + 4 * restarts.count + 4 }

    mutating func add(key: [UInt8], value: [UInt8]) {
        var shared = 0
        if sinceRestart < restartInterval {
            while shared < min(key.count, previous.count) && key[shared] == previous[shared] { shared += 1 }
        } else {
            restarts.append(UInt32(bytes.count))
            sinceRestart = 0
        }
        bytes +=
            SSTableWriter.varint(UInt64(shared)) + SSTableWriter.varint(UInt64(key.count - shared))
            + SSTableWriter.varint(UInt64(value.count))
        bytes += key[shared...] + value
        previous = key
        sinceRestart += 1
    }

    mutating func finish() -> [UInt8] {
        var result = bytes
        for restart in restarts { result += withUnsafeBytes(of: restart.littleEndian) { Array($0) } }
        result += withUnsafeBytes(of: UInt32(restarts.count).littleEndian) { Array($0) }
        return result
    }
}

import Formats

/// Recomputes the masked CRC-32C trailer of every block of a LevelDB table (a TensorFlow `.index`)
/// the fuzzer's input still lets us find, so mutations of keys and values get past the checksums.
///
/// The table ends in a 48-byte footer: the metaindex and index block handles (varint offset,
/// varint size), padding, and an 8-byte magic. Each block is followed by a type byte and the masked
/// CRC-32C of block + type; the index block's values are the handles of the data blocks.
public enum TableRepair {
    static let footerSize = 48

    /// Rewrites the trailers of the data blocks the index block names, then of the index and
    /// metaindex blocks.
    public static func recomputeChecksums(_ bytes: inout [UInt8]) {
        guard bytes.count >= footerSize else { return }
        let footerStart = bytes.count - footerSize
        guard let metaindex = handle(bytes, at: footerStart), let index = handle(bytes, at: metaindex.next) else {
            return
        }
        for data in handles(in: bytes, block: index.value, limit: footerStart) {
            repairTrailer(&bytes, block: data, limit: footerStart)
        }
        repairTrailer(&bytes, block: index.value, limit: footerStart)
        repairTrailer(&bytes, block: metaindex.value, limit: footerStart)
    }

    private static func handle(_ bytes: [UInt8], at offset: Int) -> (value: Range<Int>, next: Int)? {
        guard let start = bytes.varint(at: offset), let size = bytes.varint(at: start.next),
            let lower = Int(exactly: start.value), let count = Int(exactly: size.value),
            count <= Int.max - lower
        else { return nil }
        return (lower..<(lower + count), size.next)
    }

    /// Writes type byte + masked CRC-32C after `block`, if block and trailer lie before `limit`.
    private static func repairTrailer(_ bytes: inout [UInt8], block: Range<Int>, limit: Int) {
        guard block.upperBound <= limit - 5,
            let crc = bytes.checksum(block.lowerBound..<(block.upperBound + 1), { CRC32C.checksum($0) })
        else { return }
        bytes.store(CRC32C.mask(crc), at: block.upperBound + 1)
    }

    /// The block handles stored as the values of the entries of `block` (an index block).
    private static func handles(in bytes: [UInt8], block: Range<Int>, limit: Int) -> [Range<Int>] {
        guard block.upperBound <= limit, block.count >= 4,
            let restarts = bytes.integer(at: block.upperBound - 4, as: UInt32.self),
            Int(restarts) <= (block.count - 4) / 4
        else { return [] }
        let end = block.upperBound - 4 - 4 * Int(restarts)
        var handles: [Range<Int>] = []
        var position = block.lowerBound
        while position < end {
            guard let shared = bytes.varint(at: position), let unshared = bytes.varint(at: shared.next),
                let valueLength = bytes.varint(at: unshared.next), unshared.value <= UInt64(end),
                valueLength.value <= UInt64(end)
            else { break }
            let value = valueLength.next + Int(unshared.value)
            guard value + Int(valueLength.value) <= end else { break }
            if let handle = handle(bytes, at: value) { handles.append(handle.value) }
            position = value + Int(valueLength.value)
        }
        return handles
    }
}

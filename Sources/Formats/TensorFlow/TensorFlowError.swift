/// A TensorFlow checkpoint (LevelDB-format `.index` table, bundle entries, data shards) that zoo
/// refuses, with the file and byte offset.
public enum TensorFlowError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    case tooSmall(path: String, size: Int)
    case badFooterMagic(path: String, offset: Int)
    case blockHandleOutOfBounds(path: String, offset: UInt64, size: UInt64, fileSize: Int)
    case badBlockChecksum(path: String, offset: Int, expected: UInt32, actual: UInt32)
    case compressedBlock(path: String, offset: Int, type: UInt8)
    case malformedBlock(path: String, offset: Int, reason: String)
    case sharedPrefixTooLong(path: String, offset: Int, shared: Int, previous: Int)
    case unsortedKeys(path: String, offset: Int, key: String)
    case missingHeader(path: String)
    case invalidHeader(path: String, reason: String)
    /// The bundle asks for a newer reader (`version.min_consumer` above TensorFlow's bundle version 1).
    case unsupportedVersion(path: String, minConsumer: Int32)
    case invalidEntry(path: String, tensor: String, offset: Int, reason: String)
    case unsupportedDType(path: String, tensor: String, offset: Int, dataType: Int32)
    case entrySizeMismatch(path: String, tensor: String, offset: Int, size: Int64, expected: Int)
    case shardIdOutOfRange(path: String, tensor: String, offset: Int, shardID: Int32, shardCount: Int)
    case slicedEntry(path: String, tensor: String)
    case missingShard(path: String, shard: String)
    case entryOutOfBounds(path: String, tensor: String, shard: String, start: Int64, end: Int64, shardSize: Int)

    public var description: String {
        switch self {
        case let .tooSmall(path, size):
            "\(path): \(size) bytes is too small for a TensorFlow checkpoint index (the 48-byte footer is missing)"
        case let .badFooterMagic(path, offset):
            "\(path): no table magic number at byte offset \(offset): not a TensorFlow checkpoint index"
        case let .blockHandleOutOfBounds(path, offset, size, fileSize):
            // The handle's numbers are the file's own, possibly absurd: printed as read, never summed.
            "\(path): a block handle points at \(size) bytes from byte offset \(offset), beyond the blocks of the "
                + "\(fileSize)-byte file"
        case let .badBlockChecksum(path, offset, expected, actual):
            "\(path): block at byte offset \(offset) fails its CRC-32C (stored \(String(expected, radix: 16)), "
                + "computed \(String(actual, radix: 16)))"
        case let .compressedBlock(path, offset, type):
            "\(path): block at byte offset \(offset) is compressed (type \(type), Snappy); zoo reads uncompressed tables, "
                + "as TensorFlow writes checkpoint indexes"
        case let .malformedBlock(path, offset, reason):
            "\(path): malformed table block at byte offset \(offset): \(reason)"
        case let .sharedPrefixTooLong(path, offset, shared, previous):
            "\(path): entry at byte offset \(offset) shares \(shared) key bytes with a previous key of \(previous)"
        case let .missingHeader(path):
            "\(path): the table has no bundle header (the entry under the empty key)"
        case let .invalidHeader(path, reason):
            "\(path): invalid bundle header: \(reason)"
        case let .unsupportedVersion(path, minConsumer):
            "\(path): the bundle needs a reader of version \(minConsumer) or later; TensorFlow's bundle format, "
                + "which zoo reads, is version 1"
        case let .unsupportedDType(path, tensor, offset, dataType):
            "\(path): entry for '\(tensor)' at byte offset \(offset) has TensorFlow dtype \(dataType), not a numeric type zoo reads"
        case let .entrySizeMismatch(path, tensor, offset, size, expected):
            "\(path): entry for '\(tensor)' at byte offset \(offset) says \(size) bytes, but its dtype and shape need \(expected)"
        case let .shardIdOutOfRange(path, tensor, offset, shardID, shardCount):
            "\(path): entry for '\(tensor)' at byte offset \(offset) is in shard \(shardID) of a \(shardCount)-shard checkpoint"
        case let .invalidEntry(path, tensor, offset, reason):
            "\(path): entry for '\(tensor)' at byte offset \(offset): \(reason)"
        case let .slicedEntry(path, tensor):
            "\(path): '\(tensor)' is a partitioned (sliced) variable; zoo reads whole tensors only"
        case let .missingShard(path, shard):
            "\(path): data shard \(shard) is missing"
        case let .entryOutOfBounds(path, tensor, shard, start, end, shardSize):
            "\(shard): '\(tensor)' spans bytes \(start)..<\(end), outside the \(shardSize)-byte shard (index \(path))"
        case let .unsortedKeys(path, offset, key):
            "\(path): key '\(key)' at byte offset \(offset) is not after the key before it (table keys must be sorted)"
        }
    }
}

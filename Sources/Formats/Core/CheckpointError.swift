/// Errors about files and formats in general, before a specific format's reader takes over.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    /// A system call on `path` failed.
    case io(path: String, operation: String, errno: Int32)
    /// `path` is not a regular file (a directory, a device, ...).
    case notARegularFile(path: String)
    /// `path` was truncated while zoo read it: byte `offset` of its mapping no longer exists.
    case truncatedWhileReading(path: String, offset: Int)
    /// The bytes of `path` match no format zoo knows.
    case unrecognizedFormat(path: String, firstBytes: String)
    /// The format was recognised but zoo cannot read it yet.
    case unsupportedFormat(path: String, format: String)
    /// `path` is a model file of a format zoo knows only to refuse (Keras, Flax, TorchScript, TF2).
    case foreignFormat(path: String, format: ForeignFormat)
    /// A directory holds no checkpoint zoo can find.
    case noCheckpointInDirectory(path: String, contents: [String])
    /// The output exists and is not empty, and replacing it was not asked for.
    case outputExists(path: String)
    /// A shard an index names does not exist.
    case missingShard(index: String, shard: String)
    /// The index maps a tensor to a shard that does not hold it.
    case tensorNotInShard(index: String, tensor: String, shard: String)
    /// A shard holds a tensor the index does not map to it.
    case tensorNotIndexed(index: String, tensor: String, shard: String)
    case invalidIndex(path: String, reason: String)
    case indexTotalSizeMismatch(path: String, declared: Int, actual: Int)
    /// A zstd-compressed file could not be compressed or decompressed.
    case compression(path: String, reason: String)
    /// A writer was given a tensor of a dtype its format cannot store (Q8_0 for safetensors).
    case unsupportedDType(path: String, tensor: String, dtype: String, format: String)
    /// A tensor's bytes do not match the checksum the format stored for them (found when read).
    case checksumMismatch(
        path: String, tensor: String, offset: Int, algorithm: String, expected: UInt32, actual: UInt32)

    public var description: String {
        switch self {
        case let .io(path, operation, errno) where errno == ELOOP:
            "\(path): \(operation) failed: the path is a symbolic link loop (errno \(errno), ELOOP)"
        case let .io(path, operation, errno):
            "\(path): \(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case let .truncatedWhileReading(path, offset):
            "\(path): the file was truncated while zoo was reading it (byte offset \(offset) no longer exists); nothing was written"
        case let .notARegularFile(path):
            "\(path): not a regular file (\(FileKind.describe(path))); zoo reads checkpoints from regular files "
                + "and directories"
        case let .unrecognizedFormat(path, firstBytes):
            "\(path): not a checkpoint format zoo recognises (first bytes at offset 0: \(firstBytes))"
        case let .unsupportedFormat(path, format):
            "\(path): \(format) checkpoints are recognised but not readable by this version of zoo"
        case let .foreignFormat(path, format):
            "\(path): \(format.displayName), which zoo does not read; \(format.instead)"
        case let .noCheckpointInDirectory(path, contents):
            "\(path): no checkpoint found (looked for model.safetensors.index.json, model.safetensors, "
                + "a single *.safetensors file, pytorch_model.bin.index.json, pytorch_model.bin, "
                + "a TensorFlow checkpoint's .index, and a single *.gguf file; the directory holds: "
                + (contents.isEmpty ? "nothing" : contents.sorted().prefix(12).joined(separator: ", ")) + ")"
        case let .outputExists(path):
            "\(path): output exists and is not empty, and replacing it was not asked for"
        case let .missingShard(index, shard):
            "\(index): shard \(shard) is missing"
        case let .tensorNotInShard(index, tensor, shard):
            "\(index): tensor '\(tensor)' is indexed in \(shard) but that shard does not contain it"
        case let .tensorNotIndexed(index, tensor, shard):
            "\(index): tensor '\(tensor)' in \(shard) is not mapped to that shard by the index"
        case let .invalidIndex(path, reason):
            "\(path): invalid index: \(reason)"
        case let .compression(path, reason):
            "\(path): zstd: \(reason)"
        case let .checksumMismatch(path, tensor, offset, algorithm, expected, actual):
            "\(path): tensor '\(tensor)' (bytes from offset \(offset)) fails its \(algorithm) check "
                + "(stored \(String(expected, radix: 16)), computed \(String(actual, radix: 16)))"
        case let .unsupportedDType(path, tensor, dtype, format):
            "\(path): tensor '\(tensor)' is \(dtype), which \(format) files cannot store "
                + "(block-quantized tensors are written to GGUF only)"
        case let .indexTotalSizeMismatch(path, declared, actual):
            "\(path): metadata.total_size is \(declared) but the shards' tensors hold \(actual) bytes"
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A checksum a format stores for a tensor's bytes.
public enum StoredChecksum: Sendable, Equatable {
    /// CRC-32 (zip members).
    case crc32(UInt32)
    /// CRC-32C, unmasked (TensorFlow bundle entries).
    case crc32c(UInt32)

    var value: UInt32 {
        switch self {
        case let .crc32(value), let .crc32c(value): value
        }
    }

    /// The algorithm's name, for error messages.
    var algorithm: String {
        switch self {
        case .crc32: "CRC-32"
        case .crc32c: "CRC-32C"
        }
    }
}

/// A named tensor whose bytes stay in a memory-mapped file until someone asks for them.
///
/// Opening a checkpoint produces `TensorRef`s only; nothing is copied. The bytes are contiguous,
/// row-major and little-endian, as every format zoo reads stores them.
public struct TensorRef: Sendable {
    public let spec: TensorSpec
    /// What holds the bytes: nearly always the mapped file they are in (`MappedFile`); memory zoo
    /// filled for a tensor copied out of its file (`AnonymousStorage`).
    public let file: any TensorStorage
    /// Where the tensor's bytes start in `file`.
    public let fileOffset: Int
    /// The checksum the format stored for exactly these bytes, when it is still to be checked: the
    /// check happens as the bytes are read (`forEachVerifiedChunk`), not at open.
    public let expectedChecksum: StoredChecksum?

    /// Creates a reference; `fileOffset + spec.byteCount` must lie inside `file` (readers check
    /// this against the format's own offsets before creating one).
    public init(spec: TensorSpec, file: any TensorStorage, fileOffset: Int, expectedChecksum: StoredChecksum? = nil) {
        precondition(fileOffset >= 0 && fileOffset <= file.size - spec.byteCount, "tensor outside its file")
        self.spec = spec
        self.file = file
        self.fileOffset = fileOffset
        self.expectedChecksum = expectedChecksum
    }

    /// Calls `body` with the tensor's bytes a chunk at a time (from the file's mapping, each chunk's
    /// pages released after it, so nothing stays resident), checking `expectedChecksum` once all
    /// are read.
    ///
    /// - Throws: `CheckpointError.checksumMismatch` when the bytes fail their stored checksum (after
    ///   `body` has seen them: callers write into staged output that is discarded on error).
    public func forEachVerifiedChunk(
        chunkSize: Int = 1 << 22, alignment: Int = 1, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var crc: UInt32 = 0
        try file.forEachChunk(in: byteRange, chunkSize: chunkSize, alignment: alignment) { chunk in
            switch expectedChecksum {
            case .crc32?: crc = CRC32.checksum(chunk, continuing: crc)
            case .crc32c?: crc = CRC32C.checksum(chunk, continuing: crc)
            case nil: break
            }
            try body(chunk)
        }
        if let expectedChecksum, crc != expectedChecksum.value {
            throw CheckpointError.checksumMismatch(
                path: file.path, tensor: name, offset: fileOffset, algorithm: expectedChecksum.algorithm,
                expected: expectedChecksum.value, actual: crc)
        }
    }

    public var name: String { spec.name }
    public var dtype: DType { spec.dtype }
    public var shape: [Int] { spec.shape }

    /// The byte range of the tensor in its file.
    public var byteRange: Range<Int> { fileOffset..<(fileOffset + spec.byteCount) }

    /// Calls `body` with the tensor's bytes, straight from the mapping.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try file.withBytes(in: byteRange, body)
    }

    /// A reference to the same bytes under another name.
    public func renamed(_ newName: String) -> TensorRef {
        TensorRef(spec: spec.renamed(newName), file: file, fileOffset: fileOffset, expectedChecksum: expectedChecksum)
    }

    /// The offset of the first byte where the two tensors' bytes differ, or `nil` if they are equal
    /// (same dtype, same shape, same bytes). A dtype or shape difference reports offset 0.
    ///
    /// Two names for the same bytes (tied tensors in a PyTorch file) are equal without reading them;
    /// otherwise both are read a chunk at a time, so nothing stays resident.
    public func firstDifference(from other: TensorRef) -> Int? {
        guard spec.dtype == other.spec.dtype, spec.shape == other.spec.shape else { return 0 }
        if file === other.file && fileOffset == other.fileOffset { return nil }
        // Straight from both mappings, each chunk's pages released after it: no copy, and the
        // resident set stays at a chunk whatever the tensor's size.
        let chunk = 1 << 22
        var start = 0
        while start < spec.byteCount {
            let length = min(chunk, spec.byteCount - start)
            let difference = file.withBytesOnce(in: (fileOffset + start)..<(fileOffset + start + length)) { mine in
                other.file.withBytesOnce(in: (other.fileOffset + start)..<(other.fileOffset + start + length)) {
                    theirs -> Int? in
                    guard let left = mine.baseAddress, let right = theirs.baseAddress, memcmp(left, right, length) != 0
                    else { return nil }
                    return (0..<length).first { mine[$0] != theirs[$0] } ?? 0
                }
            }
            if let difference { return start + difference }
            start += length
        }
        return nil
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

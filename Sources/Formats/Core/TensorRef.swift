/// A named tensor whose bytes stay in a memory-mapped file until someone asks for them.
///
/// Opening a checkpoint produces `TensorRef`s only; nothing is copied. The bytes are contiguous,
/// row-major and little-endian, as every format zoo reads stores them.
public struct TensorRef: Sendable {
    public let spec: TensorSpec
    /// The mapped file holding the bytes.
    public let file: MappedFile
    /// Where the tensor's bytes start in `file`.
    public let fileOffset: Int

    /// Creates a reference; `fileOffset + spec.byteCount` must lie inside `file` (readers check
    /// this against the format's own offsets before creating one).
    public init(spec: TensorSpec, file: MappedFile, fileOffset: Int) {
        precondition(fileOffset >= 0 && fileOffset <= file.size - spec.byteCount, "tensor outside its file")
        self.spec = spec
        self.file = file
        self.fileOffset = fileOffset
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
        TensorRef(spec: spec.renamed(newName), file: file, fileOffset: fileOffset)
    }

    /// The offset of the first byte where the two tensors' bytes differ, or `nil` if they are equal
    /// (same dtype, same shape, same bytes). A dtype or shape difference reports offset 0.
    public func firstDifference(from other: TensorRef) -> Int? {
        guard spec.dtype == other.spec.dtype, spec.shape == other.spec.shape else { return 0 }
        return withUnsafeBytes { mine in
            other.withUnsafeBytes { theirs in
                guard let left = mine.baseAddress, let right = theirs.baseAddress, mine.count > 0 else { return nil }
                // memcmp in 64 KiB blocks finds the block; a byte loop finds the offset inside it.
                let block = 1 << 16
                var start = 0
                while start < mine.count {
                    let length = min(block, mine.count - start)
                    if memcmp(left + start, right + start, length) != 0 {
                        return (start..<(start + length)).first { mine[$0] != theirs[$0] }
                    }
                    start += length
                }
                return nil
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

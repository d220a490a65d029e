/// Where a writer's bytes go: a file, or anything that wants to see them (a checksum, a count).
public protocol ByteSink {
    /// Appends `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
    /// Appends the bytes of an array.
    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Produces one tensor's bytes for a writer, chunk by chunk, so that no tensor has to be held whole.
///
/// `Convert` implements this to read, cast and emit; a plain `TensorRef` emits its mapped bytes.
public protocol TensorByteSource {
    /// The tensor as it will be written: name, dtype and shape.
    var outputSpec: TensorSpec { get }
    /// Writes exactly `outputSpec.byteCount` bytes into `sink`.
    func emit(into sink: inout some ByteSink) throws
}

extension TensorRef: TensorByteSource {
    public var outputSpec: TensorSpec { spec }

    /// Writes the mapped bytes in chunks, releasing each chunk's pages once written so the
    /// resident set stays small however large the tensor.
    public func emit(into sink: inout some ByteSink) throws {
        file.adviseSequential(byteRange)
        let chunk = 1 << 22
        var start = byteRange.lowerBound
        while start < byteRange.upperBound {
            let end = min(start + chunk, byteRange.upperBound)
            try file.withBytes(in: start..<end) { try sink.write($0) }
            file.releasePages(in: start..<end)
            start = end
        }
    }
}

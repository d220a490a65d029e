/// Where a writer's bytes go: a file, or anything that wants to see them (a checksum, a count).
public protocol ByteSink {
    /// Appends `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws

    /// Appends `count` bytes that `fill` writes into the buffer it is given (of exactly `count`
    /// bytes), so a producer such as a cast can write its output in place instead of copying it.
    mutating func write(count: Int, filledBy fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws
}

extension ByteSink {
    /// Fills a temporary buffer and appends it.
    public mutating func write(count: Int, filledBy fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try withUnsafeTemporaryAllocation(byteCount: count, alignment: 64) { buffer in
            try fill(buffer)
            try write(UnsafeRawBufferPointer(buffer))
        }
    }

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

    /// Writes the tensor's bytes a chunk at a time, read from the file rather than the mapping so
    /// that nothing stays resident however large the tensor, and checked against their stored CRC.
    public func emit(into sink: inout some ByteSink) throws {
        try forEachVerifiedChunk { try sink.write($0) }
    }
}

/// Passes bytes through to another sink, keeping their checksum (CRC-32 for zip members,
/// CRC-32C for TensorFlow bundle entries).
struct ChecksummingSink<Base: ByteSink>: ByteSink {
    enum Algorithm {
        case crc32
        case crc32c

        func update(_ crc: UInt32, with bytes: UnsafeRawBufferPointer) -> UInt32 {
            switch self {
            case .crc32: CRC32.checksum(bytes, continuing: crc)
            case .crc32c: CRC32C.checksum(bytes, continuing: crc)
            }
        }
    }

    var base: Base
    let algorithm: Algorithm
    private(set) var crc: UInt32 = 0

    init(base: Base, algorithm: Algorithm) {
        self.base = base
        self.algorithm = algorithm
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        crc = algorithm.update(crc, with: bytes)
        try base.write(bytes)
    }

    mutating func write(count: Int, filledBy fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        var running = crc
        let algorithm = algorithm
        try base.write(count: count) { buffer in
            try fill(buffer)
            running = algorithm.update(running, with: UnsafeRawBufferPointer(buffer))
        }
        crc = running
    }
}

/// The one way zoo reads numbers and byte spans out of a file: every read is checked against the
/// reader's window first, so a hostile length, offset or count yields `nil`, never a trap.
///
/// Two kinds of reads, in the shape of swift-nio's `ByteBuffer`:
/// - *absolute* reads (`integer(at:)`, `bytes(at:count:)`) take an offset and do not move;
/// - *relative* reads (`readInteger()`, `readBytes(_:)`, `readVarint()`) read at `offset` and move
///   past what they read, or return `nil` without moving.
///
/// Offsets are those of the buffer the reader was made from, also in a reader narrowed to a
/// window (`window(_:)`), so an offset a format reports in an error is the file's own.
///
/// Integers are little-endian (every format zoo reads) unless a `bigEndian` read says otherwise.
/// A reader borrows its bytes: use it only inside the `withBytes`/`withUnsafeBytes` closure that
/// handed them out.
public struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    /// The offsets this reader may read: all of `bytes`, or a window of it.
    public let bounds: Range<Int>
    /// The offset of the next relative read.
    public private(set) var offset: Int

    /// A reader over all of `bytes`, starting at offset 0.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        bounds = 0..<bytes.count
        offset = 0
    }

    private init(_ bytes: UnsafeRawBufferPointer, bounds: Range<Int>) {
        self.bytes = bytes
        self.bounds = bounds
        offset = bounds.lowerBound
    }

    /// Bytes left after `offset`.
    public var remaining: Int { bounds.upperBound - offset }

    /// Whether every byte of the window has been read.
    public var isAtEnd: Bool { offset >= bounds.upperBound }

    // MARK: - Absolute reads

    /// The range `start ..< start + count`, if all of it lies inside the window.
    ///
    /// Takes any integer type, so 64-bit offsets and sizes read from a file are checked before
    /// they are converted, never converted and then trusted.
    public func range(at start: some BinaryInteger, count: some BinaryInteger) -> Range<Int>? {
        guard let start = Int(exactly: start), let count = Int(exactly: count), count >= 0,
            start >= bounds.lowerBound, start <= bounds.upperBound, count <= bounds.upperBound - start
        else { return nil }
        return start..<(start + count)
    }

    /// The integer of type `T` at `offset`, or `nil` if it does not lie inside the window.
    public func integer<T: FixedWidthInteger>(at offset: some BinaryInteger, as type: T.Type = T.self) -> T? {
        guard let range = range(at: offset, count: MemoryLayout<T>.size) else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: T.self))
    }

    /// The big-endian integer of type `T` at `offset` (pickle's BINFLOAT), or `nil`.
    public func bigEndianInteger<T: FixedWidthInteger>(at offset: some BinaryInteger, as type: T.Type = T.self) -> T? {
        guard let range = range(at: offset, count: MemoryLayout<T>.size) else { return nil }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: T.self))
    }

    /// The `count` bytes at `offset`, or `nil` if they do not all lie inside the window.
    public func bytes(at offset: some BinaryInteger, count: some BinaryInteger) -> UnsafeRawBufferPointer? {
        guard let range = range(at: offset, count: count) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// A reader of the window `start ..< start + count` (starting at `start`), or `nil` if it does
    /// not lie inside this one.
    public func window(at start: some BinaryInteger, count: some BinaryInteger) -> ByteReader? {
        guard let range = range(at: start, count: count) else { return nil }
        return ByteReader(bytes, bounds: range)
    }

    /// The offset of the first `byte` in `start ..< start + limit` (clipped to the window), if any.
    public func firstIndex(of byte: UInt8, from start: Int, limit: Int) -> Int? {
        guard start >= bounds.lowerBound, start <= bounds.upperBound, limit >= 0 else { return nil }
        let end = start + min(limit, bounds.upperBound - start)
        return (start..<end).first { bytes[$0] == byte }
    }

    // MARK: - Relative reads

    /// Reads a little-endian integer, or returns `nil` (without moving) if too few bytes remain.
    public mutating func readInteger<T: FixedWidthInteger>(as type: T.Type = T.self) -> T? {
        guard let value = integer(at: offset, as: T.self) else { return nil }
        offset += MemoryLayout<T>.size
        return value
    }

    /// Reads a big-endian integer, or returns `nil` (without moving) if too few bytes remain.
    public mutating func readBigEndianInteger<T: FixedWidthInteger>(as type: T.Type = T.self) -> T? {
        guard let value = bigEndianInteger(at: offset, as: T.self) else { return nil }
        offset += MemoryLayout<T>.size
        return value
    }

    /// Returns the next `count` bytes and moves past them, or `nil` (without moving) if fewer remain.
    public mutating func readBytes(_ count: some BinaryInteger) -> UnsafeRawBufferPointer? {
        guard let range = range(at: offset, count: count) else { return nil }
        offset = range.upperBound
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }

    /// Returns the range of the next `count` bytes and moves past them, or `nil` if fewer remain.
    public mutating func readRange(_ count: some BinaryInteger) -> Range<Int>? {
        guard let range = range(at: offset, count: count) else { return nil }
        offset = range.upperBound
        return range
    }

    /// Moves past `count` bytes; `false` (without moving) if fewer remain.
    @discardableResult
    public mutating func skip(_ count: some BinaryInteger) -> Bool {
        readRange(count) != nil
    }

    /// Reads a base-128 varint (LevelDB's and protobuf's) of at most 10 bytes, or returns `nil`
    /// (without moving) if it runs past the window or does not fit 64 bits.
    public mutating func readVarint() -> UInt64? {
        var value: UInt64 = 0
        var position = offset
        for shift in stride(from: UInt64(0), to: 64, by: 7) {
            guard let byte = integer(at: position, as: UInt8.self) else { return nil }
            position += 1
            let payload = UInt64(byte & 0x7F)
            // The tenth byte may carry only the 64th bit.
            guard shift < 63 || payload <= 1 else { return nil }
            value |= payload << shift
            if byte & 0x80 == 0 {
                offset = position
                return value
            }
        }
        return nil
    }
}

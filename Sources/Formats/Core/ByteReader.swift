/// A cursor over untrusted bytes that checks the range before every read.
///
/// Integers are read unaligned and little-endian, the byte order of every format zoo reads.
/// A reader borrows its bytes: use it only inside the `withBytes`/`withUnsafeBytes` closure that
/// handed them out.
public struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    /// The offset of the next read, from the start of `bytes`.
    public private(set) var offset: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Bytes left after `offset`.
    public var remaining: Int { bytes.count - offset }

    /// Reads a little-endian integer, or returns `nil` (without moving) if too few bytes remain.
    public mutating func readInteger<T: FixedWidthInteger>(as type: T.Type = T.self) -> T? {
        let width = MemoryLayout<T>.size
        guard remaining >= width else { return nil }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self).littleEndian
        offset += width
        return value
    }

    /// Returns the next `count` bytes and moves past them, or `nil` if fewer remain.
    public mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }
}

/// Bounds-checked little-endian fields of an input being repaired in place.
extension Array where Element == UInt8 {
    /// The little-endian integer of type `T` at `offset`, or `nil` if it does not fit.
    func integer<T: FixedWidthInteger & UnsignedInteger>(at offset: Int, as type: T.Type = T.self) -> T? {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return nil }
        var value: T = 0
        for index in (0..<width).reversed() { value = value << 8 | T(self[offset + index]) }
        return value
    }

    /// Stores `value` little-endian at `offset` if it fits; returns whether it did.
    @discardableResult
    mutating func store<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) -> Bool {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return false }
        for index in 0..<width { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        return true
    }

    /// A base-128 varint at `offset` and the offset after it, or `nil`.
    func varint(at offset: Int) -> (value: UInt64, next: Int)? {
        var value: UInt64 = 0
        var position = offset
        for shift in stride(from: UInt64(0), to: 64, by: 7) {
            guard position >= 0, position < count else { return nil }
            let byte = self[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return (value, position) }
        }
        return nil
    }

    /// The CRC of `range`, computed with `checksum`, or `nil` if the range is not inside the array.
    func checksum(_ range: Range<Int>, _ checksum: (UnsafeRawBufferPointer) -> UInt32) -> UInt32? {
        guard range.lowerBound >= 0, range.upperBound <= count else { return nil }
        return withUnsafeBytes { checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

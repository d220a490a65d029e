import Formats

/// Recomputes the CRC-32 of every stored zip member the fuzzer's input still lets us find, so
/// mutations of a member's bytes (the pickle above all) get past the archive's checksums.
public enum ZipRepair {
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50

    /// For each central directory header anywhere in `bytes` whose local header is where it says,
    /// writes the CRC-32 of the member's data into both headers.
    public static func recomputeChecksums(_ bytes: inout [UInt8]) {
        var position = 0
        while position + 46 <= bytes.count {
            defer { position += 1 }
            guard bytes.integer(at: position, as: UInt32.self) == centralSignature,
                let compressed32 = bytes.integer(at: position + 20, as: UInt32.self),
                let header32 = bytes.integer(at: position + 42, as: UInt32.self),
                let nameLength = bytes.integer(at: position + 28, as: UInt16.self),
                let extraLength = bytes.integer(at: position + 30, as: UInt16.self)
            else { continue }
            var compressed = UInt64(compressed32)
            var headerOffset = UInt64(header32)
            if compressed32 == .max || header32 == .max {
                // zip64: the 64-bit values sit in extra field 0x0001, uncompressed size first.
                guard
                    let values = zip64Values(
                        bytes, extra: position + 46 + Int(nameLength), length: Int(extraLength))
                else { continue }
                var next = values
                if bytes.integer(at: position + 24, as: UInt32.self) == .max { next += 8 }
                if compressed32 == .max {
                    guard let value = bytes.integer(at: next, as: UInt64.self) else { continue }
                    compressed = value
                    next += 8
                }
                if header32 == .max {
                    guard let value = bytes.integer(at: next, as: UInt64.self) else { continue }
                    headerOffset = value
                }
            }
            guard let local = Int(exactly: headerOffset), let size = Int(exactly: compressed),
                bytes.integer(at: local, as: UInt32.self) == localSignature,
                let localName = bytes.integer(at: local + 26, as: UInt16.self),
                let localExtra = bytes.integer(at: local + 28, as: UInt16.self)
            else { continue }
            let start = local + 30 + Int(localName) + Int(localExtra)
            guard size <= bytes.count - start, let crc = bytes.checksum(start..<(start + size), { CRC32.checksum($0) })
            else { continue }
            bytes.store(crc, at: position + 16)
            bytes.store(crc, at: local + 14)
        }
    }

    /// The offset of the zip64 extra field's values among `length` bytes of extra fields at `extra`.
    private static func zip64Values(_ bytes: [UInt8], extra: Int, length: Int) -> Int? {
        var field = extra
        while field + 4 <= extra + length {
            guard let id = bytes.integer(at: field, as: UInt16.self),
                let size = bytes.integer(at: field + 2, as: UInt16.self)
            else { return nil }
            if id == 0x0001 { return field + 4 }
            field += 4 + Int(size)
        }
        return nil
    }
}

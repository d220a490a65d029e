/// Writes a zip archive of stored members, each member's data aligned to 64 bytes, as `torch.save`
/// writes them (so `torch.load(..., mmap=True)` can map tensors in place).
///
/// Members are streamed: a member's size is known before its data, its CRC-32 after, so the
/// local header is written with a placeholder CRC that `finish` patches. Zip64 records are always
/// written (as torch does) and zip64 extra fields are added wherever a size or offset needs them.
struct ZipWriter {
    static let alignment = 64

    private let sink: BackgroundFileSink
    private var central: [UInt8] = []
    private var entryCount = 0
    private var patches: [(offset: Int, bytes: [UInt8])] = []

    init(sink: BackgroundFileSink) {
        self.sink = sink
    }

    /// Writes one member of `size` bytes whose data `writeData` produces (exactly `size` bytes).
    mutating func addMember(
        _ name: String, size: Int, writeData: (inout ChecksummingSink<BackgroundFileSink>) throws -> Void
    ) throws {
        let headerOffset = sink.bytesWritten
        let nameBytes = Array(name.utf8)
        let needsZip64 = size >= 0xFFFF_FFFF
        var extra: [UInt8] = []
        if needsZip64 { extra += le(UInt16(0x0001)) + le(UInt16(16)) + le(UInt64(size)) + le(UInt64(size)) }
        // Pad with an extra field (id "FB", as torch uses) so the data starts on a 64-byte boundary.
        let unpadded = headerOffset + 30 + nameBytes.count + extra.count + 4
        let padding = (Self.alignment - unpadded % Self.alignment) % Self.alignment
        extra += le(UInt16(0x4246)) + le(UInt16(padding)) + [UInt8](repeating: 0x5A, count: padding)

        let size32 = needsZip64 ? UInt32.max : UInt32(size)
        var header = le(UInt32(0x0403_4B50)) + le(UInt16(45)) + le(UInt16(0x0800)) + le(UInt16(0))
        header += le(UInt16(0)) + le(UInt16(0x0021))  // time 00:00, date 1980-01-01: reproducible output
        header += le(UInt32(0)) + le(size32) + le(size32)  // CRC patched once known
        header += le(UInt16(nameBytes.count)) + le(UInt16(extra.count)) + nameBytes + extra
        var plain = sink
        try plain.write(header)
        var output = ChecksummingSink(base: sink, algorithm: .crc32)
        let dataStart = sink.bytesWritten
        try writeData(&output)
        precondition(
            sink.bytesWritten - dataStart == size,
            "member \(name) wrote \(sink.bytesWritten - dataStart) of \(size) bytes")
        let crc = output.crc
        patches.append((headerOffset + 14, le(crc)))
        appendCentralEntry(name: nameBytes, size: size, crc: crc, headerOffset: headerOffset)
    }

    /// Writes a member holding `bytes`.
    mutating func addMember(_ name: String, bytes: [UInt8]) throws {
        try addMember(name, size: bytes.count) { try $0.write(bytes) }
    }

    /// Writes the central directory and end records, patches the CRCs, and closes the file.
    mutating func finish() throws {
        let directoryOffset = sink.bytesWritten
        var output = sink
        try output.write(central)
        let zip64End = sink.bytesWritten
        var tail = le(UInt32(0x0606_4B50)) + le(UInt64(44)) + le(UInt16(45)) + le(UInt16(45))
        tail += le(UInt32(0)) + le(UInt32(0)) + le(UInt64(entryCount)) + le(UInt64(entryCount))
        tail += le(UInt64(central.count)) + le(UInt64(directoryOffset))
        tail += le(UInt32(0x0706_4B50)) + le(UInt32(0)) + le(UInt64(zip64End)) + le(UInt32(1))
        tail += le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0))
        tail += le(UInt16(min(entryCount, 0xFFFF))) + le(UInt16(min(entryCount, 0xFFFF)))
        tail += le(UInt32(min(central.count, 0xFFFF_FFFF))) + le(UInt32(min(directoryOffset, 0xFFFF_FFFF)))
        tail += le(UInt16(0))
        try output.write(tail)
        try sink.close(patches: patches)
    }

    private mutating func appendCentralEntry(name: [UInt8], size: Int, crc: UInt32, headerOffset: Int) {
        var zip64: [UInt8] = []
        if size >= 0xFFFF_FFFF { zip64 += le(UInt64(size)) + le(UInt64(size)) }
        if headerOffset >= 0xFFFF_FFFF { zip64 += le(UInt64(headerOffset)) }
        let extra = zip64.isEmpty ? [] : le(UInt16(0x0001)) + le(UInt16(zip64.count)) + zip64
        let size32 = size >= 0xFFFF_FFFF ? UInt32.max : UInt32(size)
        central += le(UInt32(0x0201_4B50)) + le(UInt16(45)) + le(UInt16(45)) + le(UInt16(0x0800)) + le(UInt16(0))
        central += le(UInt16(0)) + le(UInt16(0x0021)) + le(crc) + le(size32) + le(size32)
        central += le(UInt16(name.count)) + le(UInt16(extra.count)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0))
        central += le(UInt32(0)) + le(UInt32(headerOffset >= 0xFFFF_FFFF ? UInt32.max : UInt32(headerOffset)))
        central += name + extra
        entryCount += 1
    }

    private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

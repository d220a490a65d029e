/// A zip archive of stored (uncompressed) members, read from a mapped file.
///
/// Only what PyTorch checkpoints need: the central directory (zip64 included), each member's data
/// as a byte range of the mapping (nothing copied), and every check a hostile archive calls for:
/// members inside the file and not overlapping, stored and unencrypted, local headers agreeing
/// with the central directory, CRC-32s verified.
public struct ZipArchive: Sendable {
    /// One member: its name and where its bytes are.
    public struct Member: Sendable {
        public let name: String
        /// The member's data in the file.
        public let dataRange: Range<Int>
        public let crc32: UInt32
        /// Offset of its local header.
        let headerOffset: Int
    }

    public let file: MappedFile
    /// Members in central-directory order.
    public let members: [Member]

    private static let endOfCentralDirectorySignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let centralHeaderSignature: UInt32 = 0x0201_4B50
    private static let localHeaderSignature: UInt32 = 0x0403_4B50

    /// Reads and validates the archive in `file`; `verifyChecksums` checks members' CRC-32s.
    ///
    /// - Throws: `TorchError` naming the first problem.
    public init(_ file: MappedFile) throws(TorchError) {
        self.file = file
        let path = file.path
        members = try file.withBytes(in: 0..<file.size) { bytes throws(TorchError) in
            let directory = try Self.findCentralDirectory(bytes, path: path)
            let members = try Self.readCentralDirectory(bytes, directory, file: file, path: path)
            try Self.checkLayout(members, path: path)
            return members
        }
    }

    /// Checks the CRC-32 of every member whose name is not in `deferred`.
    ///
    /// - Throws: `TorchError.crcMismatch` for the first member that fails.
    public func verifyChecksums(except deferred: Set<String> = []) throws(TorchError) {
        for member in members where !deferred.contains(member.name) { try verifyChecksum(of: member) }
    }

    /// Checks one member's CRC-32, reading it straight from the mapping and releasing its pages.
    public func verifyChecksum(of member: Member) throws(TorchError) {
        var actual: UInt32 = 0
        file.scan(in: member.dataRange) { actual = CRC32.checksum($0, continuing: actual) }
        guard actual == member.crc32 else {
            throw .crcMismatch(
                path: file.path, member: member.name, expected: member.crc32, actual: actual,
                offset: member.dataRange.lowerBound)
        }
    }

    /// The member named `name`, if any.
    public func member(named name: String) -> Member? {
        members.first { $0.name == name }
    }

    // MARK: - Central directory

    private struct Directory {
        let offset: Int
        let size: Int
        let entries: Int
    }

    private static func findCentralDirectory(_ bytes: UnsafeRawBufferPointer, path: String) throws(TorchError)
        -> Directory
    {
        // The end record is the last 22 bytes plus a comment of at most 65,535 bytes.
        let earliest = max(0, bytes.count - 22 - 0xFFFF)
        var end: Int?
        var candidate = bytes.count - 22
        while candidate >= earliest {
            if bytes.loadUnaligned(fromByteOffset: candidate, as: UInt32.self).littleEndian
                == endOfCentralDirectorySignature
            {
                end = candidate
                break
            }
            candidate -= 1
        }
        guard let end else { throw .endOfCentralDirectoryMissing(path: path) }
        var record = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[(end + 4)...]))
        let readTail = { (reader: inout ByteReader) -> (Int, Int, Int)? in
            guard reader.readBytes(6) != nil, let entries = reader.readInteger(as: UInt16.self),
                let size = reader.readInteger(as: UInt32.self), let offset = reader.readInteger(as: UInt32.self)
            else { return nil }
            return (Int(entries), Int(size), Int(offset))
        }
        guard var (entries, size, offset) = readTail(&record) else { throw .endOfCentralDirectoryMissing(path: path) }

        // A zip64 locator sits just before the end record; torch always writes one.
        let locator = end - 20
        if locator >= 0,
            bytes.loadUnaligned(fromByteOffset: locator, as: UInt32.self).littleEndian == zip64LocatorSignature
        {
            let recordOffset = bytes.loadUnaligned(fromByteOffset: locator + 8, as: UInt64.self).littleEndian
            guard recordOffset <= UInt64(locator - 56),
                bytes.loadUnaligned(fromByteOffset: Int(recordOffset), as: UInt32.self).littleEndian
                    == zip64EndSignature
            else {
                throw .invalidZip64(
                    path: path, offset: locator, reason: "the locator does not point at a zip64 end record")
            }
            var zip64 = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[(Int(recordOffset) + 32)...]))
            guard let total = zip64.readInteger(as: UInt64.self),
                let directorySize = zip64.readInteger(as: UInt64.self),
                let directoryOffset = zip64.readInteger(as: UInt64.self),
                total <= UInt64(bytes.count), directorySize <= UInt64(bytes.count),
                directoryOffset <= UInt64(bytes.count)
            else { throw .invalidZip64(path: path, offset: Int(recordOffset), reason: "sizes beyond the file") }
            (entries, size, offset) = (Int(total), Int(directorySize), Int(directoryOffset))
        }
        guard offset <= end, size <= end - offset else { throw .truncatedCentralDirectory(path: path, offset: offset) }
        // Each entry takes at least 46 bytes: a count beyond that is a lie, not an allocation request.
        guard entries <= size / 46 else { throw .truncatedCentralDirectory(path: path, offset: offset) }
        return Directory(offset: offset, size: size, entries: entries)
    }

    private static func readCentralDirectory(
        _ bytes: UnsafeRawBufferPointer, _ directory: Directory, file: MappedFile, path: String
    ) throws(TorchError) -> [Member] {
        var reader = ByteReader(
            UnsafeRawBufferPointer(rebasing: bytes[directory.offset..<(directory.offset + directory.size)]))
        var entries: [(name: String, nameBytes: UnsafeRawBufferPointer, headerOffset: Int, size: Int, crc: UInt32)] = []
        var members: [Member] = []
        var names = Set<String>()
        entries.reserveCapacity(directory.entries)
        for _ in 0..<directory.entries {
            let entryOffset = directory.offset + reader.offset
            guard reader.readInteger(as: UInt32.self) == centralHeaderSignature, reader.readBytes(4) != nil,
                let flags = reader.readInteger(as: UInt16.self), let method = reader.readInteger(as: UInt16.self),
                reader.readBytes(4) != nil, let crc = reader.readInteger(as: UInt32.self),
                let compressed32 = reader.readInteger(as: UInt32.self),
                let uncompressed32 = reader.readInteger(as: UInt32.self),
                let nameLength = reader.readInteger(as: UInt16.self),
                let extraLength = reader.readInteger(as: UInt16.self),
                let commentLength = reader.readInteger(as: UInt16.self), reader.readBytes(8) != nil,
                let header32 = reader.readInteger(as: UInt32.self),
                let nameBytes = reader.readBytes(Int(nameLength)), let extra = reader.readBytes(Int(extraLength)),
                reader.readBytes(Int(commentLength)) != nil
            else { throw .truncatedCentralDirectory(path: path, offset: entryOffset) }
            let name = String(decoding: nameBytes, as: UTF8.self)

            // Sizes and offset that do not fit 32 bits live in the zip64 extra field, in this order.
            var compressed = UInt64(compressed32)
            var uncompressed = UInt64(uncompressed32)
            var headerOffset = UInt64(header32)
            if compressed32 == .max || uncompressed32 == .max || header32 == .max {
                guard let zip64 = zip64Field(extra) else {
                    throw .invalidZip64(path: path, offset: entryOffset, reason: "'\(name)' has no zip64 extra field")
                }
                var values = ByteReader(zip64)
                if uncompressed32 == .max { uncompressed = values.readInteger(as: UInt64.self) ?? .max }
                if compressed32 == .max { compressed = values.readInteger(as: UInt64.self) ?? .max }
                if header32 == .max { headerOffset = values.readInteger(as: UInt64.self) ?? .max }
            }

            guard flags & 1 == 0 else { throw .encryptedMember(path: path, member: name, offset: entryOffset) }
            guard method == 0 else {
                throw .compressedMember(path: path, member: name, method: Int(method), offset: entryOffset)
            }
            guard compressed == uncompressed else {
                throw .memberSizeMismatch(
                    path: path, member: name, compressed: Int(clamping: compressed),
                    uncompressed: Int(clamping: uncompressed), offset: entryOffset)
            }
            guard names.insert(name).inserted else {
                throw .duplicateMember(path: path, member: name, offset: entryOffset)
            }
            guard headerOffset < UInt64(directory.offset), compressed <= UInt64(directory.offset) else {
                throw .memberOutOfBounds(path: path, member: name, offset: Int(clamping: headerOffset))
            }
            entries.append((name, nameBytes, Int(headerOffset), Int(compressed), crc))
        }

        // Two entries sharing a local header are one set of bytes under two names (a zip-bomb trick):
        // report that before the header check, which would only say the header names another member.
        var owners: [Int: String] = [:]
        for entry in entries {
            if let other = owners.updateValue(entry.name, forKey: entry.headerOffset) {
                throw .overlappingMembers(path: path, member: entry.name, other: other, offset: entry.headerOffset)
            }
        }
        for entry in entries {
            let dataStart = try localDataStart(
                file, headerOffset: entry.headerOffset, name: entry.nameBytes, path: path, member: entry.name)
            guard entry.size <= directory.offset - dataStart else {
                throw .memberOutOfBounds(path: path, member: entry.name, offset: dataStart)
            }
            members.append(
                Member(
                    name: entry.name, dataRange: dataStart..<(dataStart + entry.size), crc32: entry.crc,
                    headerOffset: entry.headerOffset))
        }
        return members
    }

    /// The zip64 extended-information field (id 0x0001) among the extra fields, if present.
    private static func zip64Field(_ extra: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var reader = ByteReader(extra)
        while let id = reader.readInteger(as: UInt16.self), let length = reader.readInteger(as: UInt16.self) {
            guard let body = reader.readBytes(Int(length)) else { return nil }
            if id == 0x0001 { return body }
        }
        return nil
    }

    /// Where the data of the member whose local header is at `headerOffset` starts, after checking
    /// that the header is one and names the same member.
    private static func localDataStart(
        _ file: MappedFile, headerOffset: Int, name: UnsafeRawBufferPointer, path: String, member: String
    ) throws(TorchError) -> Int {
        // Read with pread, not through the mapping: headers sit all over the file, and touching
        // each through the mapping would keep a page (or a fault-around window) of it resident.
        let fixed = 30
        guard file.size - headerOffset >= fixed, let header = try? file.bytes(in: headerOffset..<(headerOffset + fixed))
        else {
            throw .memberOutOfBounds(path: path, member: member, offset: headerOffset)
        }
        let signature = header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian }
        guard signature == localHeaderSignature else {
            throw .localHeaderMismatch(
                path: path, member: member, offset: headerOffset, reason: "has no local header signature")
        }
        let nameLength = Int(header[26]) | Int(header[27]) << 8
        let extraLength = Int(header[28]) | Int(header[29]) << 8
        let dataStart = headerOffset + fixed + nameLength + extraLength
        guard dataStart <= file.size,
            let localName = try? file.bytes(in: (headerOffset + fixed)..<(headerOffset + fixed + nameLength))
        else { throw .memberOutOfBounds(path: path, member: member, offset: headerOffset) }
        guard localName.elementsEqual(name) else {
            throw .localHeaderMismatch(path: path, member: member, offset: headerOffset, reason: "names another member")
        }
        return dataStart
    }

    /// Members must not share bytes: an archive whose entries overlap is a zip bomb or a forgery.
    private static func checkLayout(_ members: [Member], path: String) throws(TorchError) {
        let byPosition = members.sorted { $0.headerOffset < $1.headerOffset }
        for (previous, next) in zip(byPosition, byPosition.dropFirst())
        where next.headerOffset < previous.dataRange.upperBound {
            throw .overlappingMembers(path: path, member: next.name, other: previous.name, offset: next.headerOffset)
        }
    }
}

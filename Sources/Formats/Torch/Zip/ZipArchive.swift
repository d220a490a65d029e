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
        /// Whether the archive stores a CRC-32 for the member. torch with
        /// `set_crc32_options(False)` writes 0 for every member, and so does nothing else for
        /// non-empty data (a real CRC-32 of 0 is one chance in 2^32): such members are read
        /// unverified, and reported as unverified, as torch.load reads them.
        public var hasStoredChecksum: Bool { crc32 != 0 || dataRange.isEmpty }
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
        guard member.hasStoredChecksum else { return }
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

    /// The member names in `file`'s central directory, read without the checks `init` makes
    /// (methods, sizes, layout): enough to tell what an archive `init` refused is (a TorchScript
    /// program deflates its `code/`). `nil` if the directory cannot be found or read.
    static func memberNames(_ file: MappedFile) -> [String]? {
        file.withBytes(in: 0..<file.size) { bytes -> [String]? in
            guard let directory = try? findCentralDirectory(bytes, path: file.path),
                var reader = ByteReader(bytes).window(at: directory.offset, count: directory.size)
            else { return nil }
            var names: [String] = []
            for _ in 0..<directory.entries {
                guard reader.readInteger(as: UInt32.self) == centralHeaderSignature, reader.skip(24),
                    let nameLength = reader.readInteger(as: UInt16.self),
                    let extraLength = reader.readInteger(as: UInt16.self),
                    let commentLength = reader.readInteger(as: UInt16.self), reader.skip(12),
                    let name = reader.readBytes(nameLength), reader.skip(Int(extraLength) + Int(commentLength))
                else { return nil }
                names.append(String(decoding: name, as: UTF8.self))
            }
            return names
        }
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
        let archive = ByteReader(bytes)
        // The end record is the last 22 bytes plus a comment of at most 65,535 bytes.
        let earliest = max(0, bytes.count - 22 - 0xFFFF)
        guard
            let end = stride(from: bytes.count - 22, through: earliest, by: -1).first(where: {
                archive.integer(at: $0, as: UInt32.self) == endOfCentralDirectorySignature
            }),
            var record = archive.window(at: end + 4, count: 18)
        else { throw .endOfCentralDirectoryMissing(path: path) }
        guard record.skip(6), let entries16 = record.readInteger(as: UInt16.self),
            let size32 = record.readInteger(as: UInt32.self), let offset32 = record.readInteger(as: UInt32.self)
        else { throw .endOfCentralDirectoryMissing(path: path) }
        var (entries, size, offset) = (UInt64(entries16), UInt64(size32), UInt64(offset32))

        // A zip64 locator sits just before the end record; torch always writes one. It points at
        // the 56-byte zip64 end record, which must lie before the locator.
        let locator = end - 20
        if archive.integer(at: locator, as: UInt32.self) == zip64LocatorSignature {
            guard let recordOffset = archive.integer(at: locator + 8, as: UInt64.self),
                let zip64Record = archive.window(at: 0, count: locator)?.window(at: recordOffset, count: 56),
                zip64Record.integer(at: zip64Record.offset, as: UInt32.self) == zip64EndSignature
            else {
                throw .invalidZip64(
                    path: path, offset: locator, reason: "the locator does not point at a zip64 end record")
            }
            var zip64 = zip64Record
            zip64.skip(32)
            guard let total = zip64.readInteger(as: UInt64.self),
                let directorySize = zip64.readInteger(as: UInt64.self),
                let directoryOffset = zip64.readInteger(as: UInt64.self)
            else { throw .invalidZip64(path: path, offset: zip64Record.offset, reason: "sizes beyond the file") }
            (entries, size, offset) = (total, directorySize, directoryOffset)
        }
        // The directory lies before the end record.
        guard let directory = archive.window(at: 0, count: end)?.range(at: offset, count: size) else {
            throw .truncatedCentralDirectory(path: path, offset: Int(clamping: offset))
        }
        // Each entry takes at least 46 bytes: a count beyond that is a lie, not an allocation request.
        guard entries <= UInt64(directory.count / 46) else {
            throw .truncatedCentralDirectory(path: path, offset: directory.lowerBound)
        }
        return Directory(offset: directory.lowerBound, size: directory.count, entries: Int(entries))
    }

    private static func readCentralDirectory(
        _ bytes: UnsafeRawBufferPointer, _ directory: Directory, file: MappedFile, path: String
    ) throws(TorchError) -> [Member] {
        guard var reader = ByteReader(bytes).window(at: directory.offset, count: directory.size) else {
            throw .truncatedCentralDirectory(path: path, offset: directory.offset)
        }
        var entries: [(name: String, nameBytes: UnsafeRawBufferPointer, headerOffset: Int, size: Int, crc: UInt32)] = []
        var members: [Member] = []
        var names = Set<String>()
        entries.reserveCapacity(directory.entries)
        for _ in 0..<directory.entries {
            let entryOffset = reader.offset
            guard reader.readInteger(as: UInt32.self) == centralHeaderSignature, reader.skip(4),
                let flags = reader.readInteger(as: UInt16.self), let method = reader.readInteger(as: UInt16.self),
                reader.skip(4), let crc = reader.readInteger(as: UInt32.self),
                let compressed32 = reader.readInteger(as: UInt32.self),
                let uncompressed32 = reader.readInteger(as: UInt32.self),
                let nameLength = reader.readInteger(as: UInt16.self),
                let extraLength = reader.readInteger(as: UInt16.self),
                let commentLength = reader.readInteger(as: UInt16.self), reader.skip(8),
                let header32 = reader.readInteger(as: UInt32.self),
                let nameBytes = reader.readBytes(nameLength), let extra = reader.readBytes(extraLength),
                reader.skip(commentLength)
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
            guard let body = reader.readBytes(length) else { return nil }
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
        guard headerOffset <= file.size, file.size - headerOffset >= fixed,
            let header = try? file.bytes(in: headerOffset..<(headerOffset + fixed))
        else {
            throw .memberOutOfBounds(path: path, member: member, offset: headerOffset)
        }
        let (signature, nameLength, extraLength) = header.withUnsafeBytes { raw in
            let fields = ByteReader(raw)
            return (
                fields.integer(at: 0, as: UInt32.self), fields.integer(at: 26, as: UInt16.self),
                fields.integer(at: 28, as: UInt16.self)
            )
        }
        guard signature == localHeaderSignature, let nameLength, let extraLength else {
            throw .localHeaderMismatch(
                path: path, member: member, offset: headerOffset, reason: "has no local header signature")
        }
        let nameStart = headerOffset + fixed
        let dataStart = nameStart + Int(nameLength) + Int(extraLength)
        guard dataStart <= file.size, let localName = try? file.bytes(in: nameStart..<(nameStart + Int(nameLength)))
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

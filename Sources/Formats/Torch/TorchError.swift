/// A PyTorch checkpoint (zip container, pickle, or legacy file) that zoo refuses, with the file,
/// the member or tensor, and the byte offset.
///
/// Offsets are absolute offsets into the named file unless the case says otherwise.
public enum TorchError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    // The zip container
    case endOfCentralDirectoryMissing(path: String)
    case truncatedCentralDirectory(path: String, offset: Int)
    case invalidZip64(path: String, offset: Int, reason: String)
    case memberOutOfBounds(path: String, member: String, offset: Int)
    case compressedMember(path: String, member: String, method: Int, offset: Int)
    case encryptedMember(path: String, member: String, offset: Int)
    case memberSizeMismatch(path: String, member: String, compressed: Int, uncompressed: Int, offset: Int)
    case overlappingMembers(path: String, member: String, other: String, offset: Int)
    case localHeaderMismatch(path: String, member: String, offset: Int, reason: String)
    case crcMismatch(path: String, member: String, expected: UInt32, actual: UInt32, offset: Int)
    case duplicateMember(path: String, member: String, offset: Int)
    case missingMember(path: String, member: String)
    case bigEndian(path: String)
    // The pickle
    case forbiddenGlobal(path: String, member: String, global: String, offset: Int)
    case unsupportedOpcode(path: String, member: String, opcode: UInt8, offset: Int)
    case invalidMemo(path: String, member: String, index: Int, offset: Int)
    case stackUnderflow(path: String, member: String, offset: Int)
    case stackTooDeep(path: String, member: String, offset: Int)
    case lengthTooLarge(path: String, member: String, length: UInt64, remaining: Int, offset: Int)
    case truncatedPickle(path: String, member: String, offset: Int)
    case invalidPickleValue(path: String, member: String, offset: Int, reason: String)
    // Storages and tensors
    case storageSizeMismatch(path: String, storage: String, declared: Int, actual: Int)
    case storageTooSmall(path: String, tensor: String, needed: Int, available: Int)
    case notAStateDict(path: String, reason: String)
    // The legacy (pre-1.6) format
    case legacyBadMagic(path: String)
    case legacyUnsupportedVersion(path: String, version: Int)
    case legacyTruncated(path: String, storage: String, offset: Int)
    case legacyTrailingBytes(path: String, offset: Int)

    public var description: String {
        switch self {
        case let .endOfCentralDirectoryMissing(path):
            "\(path): not a complete zip archive (no end-of-central-directory record in the last 64 KiB)"
        case let .truncatedCentralDirectory(path, offset):
            "\(path): the zip central directory is cut short at byte offset \(offset)"
        case let .invalidZip64(path, offset, reason):
            "\(path): invalid zip64 record at byte offset \(offset): \(reason)"
        case let .memberOutOfBounds(path, member, offset):
            "\(path): zip member '\(member)' at byte offset \(offset) runs past the end of the file"
        case let .compressedMember(path, member, method, offset):
            "\(path): zip member '\(member)' (central directory byte offset \(offset)) is compressed (method \(method)); "
                + "PyTorch checkpoints store members uncompressed, and zoo does not inflate untrusted archives"
        case let .encryptedMember(path, member, offset):
            "\(path): zip member '\(member)' (central directory byte offset \(offset)) is encrypted"
        case let .memberSizeMismatch(path, member, compressed, uncompressed, offset):
            "\(path): stored zip member '\(member)' (central directory byte offset \(offset)) claims \(compressed) "
                + "bytes stored but \(uncompressed) bytes of data"
        case let .overlappingMembers(path, member, other, offset):
            "\(path): zip member '\(member)' at byte offset \(offset) overlaps member '\(other)'"
        case let .localHeaderMismatch(path, member, offset, reason):
            "\(path): local header of zip member '\(member)' at byte offset \(offset) \(reason)"
        case let .crcMismatch(path, member, expected, actual, offset):
            "\(path): zip member '\(member)' (data at byte offset \(offset)) fails its CRC-32 check "
                + "(stored \(hex(expected)), computed \(hex(actual)))"
        case let .duplicateMember(path, member, offset):
            "\(path): zip member '\(member)' appears twice (again at central directory byte offset \(offset))"
        case let .missingMember(path, member):
            "\(path): zip member '\(member)' is missing"
        case let .bigEndian(path):
            "\(path): the checkpoint was saved big-endian; zoo reads little-endian checkpoints only"
        case let .forbiddenGlobal(path, member, global, offset):
            "\(path): \(member) byte offset \(offset) refers to '\(global)', which a weights file has no reason to "
                + "use; refusing it (nothing was executed)"
        case let .unsupportedOpcode(path, member, opcode, offset):
            "\(path): \(member) byte offset \(offset) has pickle opcode 0x\(String(opcode, radix: 16)) that a "
                + "state dict does not use"
        case let .invalidMemo(path, member, index, offset):
            "\(path): \(member) byte offset \(offset) reads memo entry \(index), which was never stored"
        case let .stackUnderflow(path, member, offset):
            "\(path): \(member) byte offset \(offset) pops more values than the pickle pushed"
        case let .stackTooDeep(path, member, offset):
            "\(path): \(member) byte offset \(offset) nests deeper than any state dict does"
        case let .lengthTooLarge(path, member, length, remaining, offset):
            "\(path): \(member) byte offset \(offset) declares \(length) bytes but only \(remaining) remain"
        case let .truncatedPickle(path, member, offset):
            "\(path): \(member) ends at byte offset \(offset) before its STOP opcode"
        case let .invalidPickleValue(path, member, offset, reason):
            "\(path): \(member) byte offset \(offset): \(reason)"
        case let .storageSizeMismatch(path, storage, declared, actual):
            "\(path): storage '\(storage)' declares \(declared) bytes but holds \(actual)"
        case let .storageTooSmall(path, tensor, needed, available):
            "\(path): tensor '\(tensor)' needs storage elements up to \(needed) but its storage has \(available)"
        case let .notAStateDict(path, reason):
            "\(path): not a state dict: \(reason)"
        case let .legacyBadMagic(path):
            "\(path): not a PyTorch legacy checkpoint (the magic number at byte offset 0 is wrong)"
        case let .legacyUnsupportedVersion(path, version):
            "\(path): legacy checkpoint protocol version \(version) is not 1001"
        case let .legacyTruncated(path, storage, offset):
            "\(path): legacy checkpoint ends inside storage '\(storage)' (byte offset \(offset))"
        case let .legacyTrailingBytes(path, offset):
            "\(path): unexpected bytes after the last storage, from byte offset \(offset)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

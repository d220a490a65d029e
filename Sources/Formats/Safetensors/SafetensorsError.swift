/// A safetensors file that zoo refuses, with the file, tensor and byte offset.
///
/// Byte offsets are absolute offsets into the named file.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    case fileTooSmall(path: String, size: Int)
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    case headerLengthOutOfBounds(path: String, length: UInt64, fileSize: Int)
    case invalidJSON(path: String, offset: Int, reason: String)
    case invalidUTF8(path: String, offset: Int)
    case invalidHeader(path: String, offset: Int, reason: String)
    case invalidMetadata(path: String, offset: Int, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String, offset: Int)
    case duplicateTensor(path: String, tensor: String, offset: Int)
    case invalidShape(path: String, tensor: String, offset: Int)
    case shapeOverflow(path: String, tensor: String, shape: String)
    case invalidOffsets(path: String, tensor: String, begin: Int, end: Int)
    case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
    case offsetsOutOfBounds(path: String, tensor: String, end: Int, fileSize: Int)
    case overlappingOffsets(path: String, tensor: String, previous: String, offset: Int)
    case gapInOffsets(path: String, tensor: String, expected: Int, found: Int)
    case trailingBytes(path: String, dataEnd: Int, fileSize: Int)

    public var description: String {
        switch self {
        case let .fileTooSmall(path, size):
            "\(path): \(size) bytes is too small for a safetensors file (the 8-byte header length is missing)"
        case let .headerTooLarge(path, length, limit):
            "\(path): header length \(length) at byte offset 0 exceeds the limit of \(limit) bytes"
        case let .headerLengthOutOfBounds(path, length, fileSize):
            "\(path): header length \(length) at byte offset 0 runs past the end of the \(fileSize)-byte file"
        case let .invalidJSON(path, offset, reason):
            "\(path): header is not valid JSON at byte offset \(offset): \(reason)"
        case let .invalidUTF8(path, offset):
            "\(path): header has invalid UTF-8 in the string at byte offset \(offset)"
        case let .invalidHeader(path, offset, reason):
            "\(path): invalid header at byte offset \(offset): \(reason)"
        case let .invalidMetadata(path, offset, reason):
            "\(path): invalid __metadata__ at byte offset \(offset): \(reason)"
        case let .unknownDType(path, tensor, dtype, offset):
            "\(path): tensor '\(tensor)' has unknown dtype \"\(dtype)\" (header byte offset \(offset))"
        case let .duplicateTensor(path, tensor, offset):
            "\(path): tensor '\(tensor)' is named twice in the header (second at byte offset \(offset))"
        case let .invalidShape(path, tensor, offset):
            "\(path): tensor '\(tensor)' has a shape that is not a list of non-negative integers (byte offset \(offset))"
        case let .shapeOverflow(path, tensor, shape):
            "\(path): tensor '\(tensor)' shape \(shape) has more bytes than can be addressed"
        case let .invalidOffsets(path, tensor, begin, end):
            "\(path): tensor '\(tensor)' data_offsets [\(begin), \(end)] end before they begin"
        case let .sizeMismatch(path, tensor, expected, actual):
            "\(path): tensor '\(tensor)' spans \(actual) bytes but its dtype and shape need \(expected)"
        case let .offsetsOutOfBounds(path, tensor, end, fileSize):
            "\(path): tensor '\(tensor)' ends at byte offset \(end), past the end of the \(fileSize)-byte file"
        case let .overlappingOffsets(path, tensor, previous, offset):
            "\(path): tensor '\(tensor)' at byte offset \(offset) overlaps tensor '\(previous)'"
        case let .gapInOffsets(path, tensor, expected, found):
            "\(path): tensor '\(tensor)' starts at byte offset \(found); the previous tensor ended at \(expected) "
                + "(tensor data must be contiguous)"
        case let .trailingBytes(path, dataEnd, fileSize):
            "\(path): bytes \(dataEnd)..<\(fileSize), after the last tensor, belong to no tensor"
        }
    }
}

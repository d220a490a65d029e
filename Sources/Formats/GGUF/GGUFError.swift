/// A GGUF file zoo refuses, or a GGUF file it cannot write, with the file, the metadata key or
/// tensor, and the byte offset.
///
/// Byte offsets are absolute offsets into the named file: where the offending field starts.
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    case notGGUF(path: String, firstBytes: String)
    case unsupportedVersion(path: String, version: UInt32)
    case bigEndian(path: String, version: UInt32)
    /// The file ends inside a field.
    case truncated(path: String, reading: String, offset: Int, fileSize: Int)
    /// The header's tensor or key count is more than the rest of the file could hold.
    case countTooLarge(path: String, what: String, count: UInt64, offset: Int, remaining: Int)
    case stringTooLong(path: String, reading: String, length: UInt64, offset: Int, remaining: Int)
    case invalidUTF8(path: String, reading: String, offset: Int)
    case unknownValueType(path: String, key: String, type: UInt32, offset: Int)
    case arrayTooLong(path: String, key: String, count: UInt64, elementType: String, offset: Int, remaining: Int)
    case arrayNestedTooDeeply(path: String, key: String, offset: Int, limit: Int)
    case invalidBool(path: String, key: String, value: UInt8, offset: Int)
    case duplicateKey(path: String, key: String, offset: Int)
    case invalidAlignment(path: String, value: String, offset: Int)
    case emptyTensorName(path: String, offset: Int)
    case duplicateTensor(path: String, tensor: String, offset: Int)
    case invalidDimensionCount(path: String, tensor: String, count: UInt32, offset: Int)
    case shapeOverflow(path: String, tensor: String, dimensions: [UInt64], offset: Int)
    /// A ggml type zoo knows by name but does not read (Q4_K, IQ2_XXS, F64, ...).
    case unsupportedTensorType(path: String, tensor: String, type: String, offset: Int)
    case unknownTensorType(path: String, tensor: String, type: UInt32, offset: Int)
    case rowNotWholeBlocks(path: String, tensor: String, rowLength: UInt64, type: String, blockSize: Int, offset: Int)
    /// `offset` is the tensor's data offset as stored; `infoOffset` where its tensor info starts.
    case misalignedOffset(path: String, tensor: String, offset: UInt64, alignment: Int, infoOffset: Int)
    case tensorOutOfBounds(
        path: String, tensor: String, offset: UInt64, byteCount: Int, dataOffset: Int, fileSize: Int, infoOffset: Int)
    case overlappingTensors(path: String, tensor: String, other: String, offset: Int)

    // Writing.
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case unwritableShape(path: String, tensor: String, shape: String)
    case duplicateKeyToWrite(path: String, key: String)
    case duplicateTensorToWrite(path: String, tensor: String)
    case emptyTensorNameToWrite(path: String)
    case invalidAlignmentToWrite(path: String, value: String)
    /// Q8_0 cannot hold NaN or infinity: `element` is the row-major index of the first one.
    case nonFiniteValue(path: String, tensor: String, element: Int)

    public var description: String {
        switch self {
        case let .notGGUF(path, firstBytes):
            "\(path): not a GGUF file (the first bytes at offset 0 are \(firstBytes), not \"GGUF\")"
        case let .unsupportedVersion(path, version):
            "\(path): GGUF version \(version) at byte offset 4 is not supported; zoo reads GGUF version 3"
        case let .bigEndian(path, version):
            "\(path): the GGUF version at byte offset 4 reads as \(version) (0x\(String(version, radix: 16))): "
                + "a big-endian GGUF file, which zoo does not read"
        case let .truncated(path, reading, offset, fileSize):
            "\(path): the file ends (at \(fileSize) bytes) inside \(reading) at byte offset \(offset)"
        case let .countTooLarge(path, what, count, offset, remaining):
            "\(path): \(what) \(count) at byte offset \(offset) is more than the remaining \(remaining) bytes can hold"
        case let .stringTooLong(path, reading, length, offset, remaining):
            "\(path): \(reading) at byte offset \(offset) is \(length) bytes long, past the \(remaining) bytes left"
        case let .invalidUTF8(path, reading, offset):
            "\(path): \(reading) at byte offset \(offset) is not valid UTF-8"
        case let .unknownValueType(path, key, type, offset):
            "\(path): metadata key '\(key)' has unknown value type \(type) (byte offset \(offset))"
        case let .arrayTooLong(path, key, count, elementType, offset, remaining):
            "\(path): metadata key '\(key)' declares an array of \(count) \(elementType) at byte offset \(offset), "
                + "more than the remaining \(remaining) bytes can hold"
        case let .arrayNestedTooDeeply(path, key, offset, limit):
            "\(path): metadata key '\(key)' nests arrays more than \(limit) deep (byte offset \(offset))"
        case let .invalidBool(path, key, value, offset):
            "\(path): metadata key '\(key)' has a bool of \(value), not 0 or 1 (byte offset \(offset))"
        case let .duplicateKey(path, key, offset):
            "\(path): metadata key '\(key)' appears twice (second at byte offset \(offset))"
        case let .invalidAlignment(path, value, offset):
            "\(path): metadata key 'general.alignment' is \(value) (byte offset \(offset)); "
                + "it must be a uint32 power of two"
        case let .emptyTensorName(path, offset):
            "\(path): the tensor info at byte offset \(offset) has an empty name"
        case let .duplicateTensor(path, tensor, offset):
            "\(path): tensor '\(tensor)' is named twice (second tensor info at byte offset \(offset))"
        case let .invalidDimensionCount(path, tensor, count, offset):
            "\(path): tensor '\(tensor)' has \(count) dimensions (byte offset \(offset)); "
                + "GGUF tensors have 1 to \(GGMLType.maxDimensions)"
        case let .shapeOverflow(path, tensor, dimensions, offset):
            "\(path): tensor '\(tensor)' dimensions \(dimensions) (innermost first, byte offset \(offset)) "
                + "hold more bytes than can be addressed"
        case let .unsupportedTensorType(path, tensor, type, offset):
            "\(path): tensor '\(tensor)' is of ggml type \(type) (byte offset \(offset)), which zoo does not read; "
                + "zoo reads F32, F16, BF16 and Q8_0"
        case let .unknownTensorType(path, tensor, type, offset):
            "\(path): tensor '\(tensor)' has unknown ggml type \(type) (byte offset \(offset))"
        case let .rowNotWholeBlocks(path, tensor, rowLength, type, blockSize, offset):
            "\(path): tensor '\(tensor)' rows of \(rowLength) elements (byte offset \(offset)) are not whole "
                + "\(type) blocks of \(blockSize)"
        case let .misalignedOffset(path, tensor, offset, alignment, infoOffset):
            "\(path): tensor '\(tensor)' data offset \(offset) (tensor info at byte offset \(infoOffset)) "
                + "is not a multiple of the alignment \(alignment)"
        case let .tensorOutOfBounds(path, tensor, offset, byteCount, dataOffset, fileSize, infoOffset):
            "\(path): tensor '\(tensor)' (tensor info at byte offset \(infoOffset)) spans \(byteCount) bytes from "
                + "data offset \(offset) after the data section at byte offset \(dataOffset), past the end "
                + "of the \(fileSize)-byte file"
        case let .overlappingTensors(path, tensor, other, offset):
            "\(path): tensor '\(tensor)' at byte offset \(offset) overlaps tensor '\(other)'"
        case let .unsupportedDType(path, tensor, dtype):
            "\(path): tensor '\(tensor)' is \(dtype); zoo writes GGUF tensors as "
                + GGMLType.writableDTypes.map(\.rawValue).joined(separator: ", ")
        case let .unwritableShape(path, tensor, shape):
            "\(path): tensor '\(tensor)' has shape \(shape); GGUF tensors have 1 to \(GGMLType.maxDimensions) "
                + "dimensions"
        case let .duplicateKeyToWrite(path, key):
            "\(path): metadata key '\(key)' is given twice"
        case let .duplicateTensorToWrite(path, tensor):
            "\(path): tensor '\(tensor)' is given twice"
        case let .emptyTensorNameToWrite(path):
            "\(path): a tensor has an empty name, which GGUF does not allow"
        case let .invalidAlignmentToWrite(path, value):
            "\(path): general.alignment is \(value); it must be a uint32 power of two"
        case let .nonFiniteValue(path, tensor, element):
            "\(path): tensor '\(tensor)' element \(element) is NaN or infinite, which Q8_0 cannot hold"
        }
    }
}

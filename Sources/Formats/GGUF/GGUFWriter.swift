import Foundation

/// Writes GGUF version 3 files, streaming one tensor at a time.
///
/// The header is computed from the tensor specs alone, as gguf-py's `GGUFWriter` lays it out:
/// metadata in the order given, tensor infos with dimensions innermost first (row-major shapes
/// reversed), each tensor's offset the sum of the sizes before it padded to the alignment, zero
/// padding to the alignment after the tensor infos and after every tensor (the last included).
/// `general.alignment` is written only if the caller gives it; the alignment is 32 otherwise.
public enum GGUFWriter: CheckpointWriter {
    public static let format = CheckpointFormat.gguf

    /// The key-values, typed and in file order.
    public typealias Header = [(key: String, value: GGUFValue)]

    /// Writes the one file of `files` with `metadata` (zoo writes no split GGUF files).
    public static func write(_ files: [WriterFile], header metadata: Header, in directory: URL) throws
        -> [WrittenFile]
    {
        precondition(files.count == 1, "a GGUF checkpoint is one file")
        return try files.map { file in
            let digest = try write(
                file.tensors, metadata: metadata, to: directory.appendingPathComponent(file.name).path)
            return WrittenFile(name: file.name, digest: digest)
        }
    }

    /// The header (everything before the data section, padding included) for `specs` laid out in
    /// order, and the alignment it uses.
    ///
    /// - Parameter path: used in error messages only.
    /// - Throws: `GGUFError` for a dtype GGUF does not store, a scalar or a tensor of more than four
    ///   dimensions, an empty or repeated name, a repeated key, or an invalid `general.alignment`.
    public static func header(
        metadata: [(key: String, value: GGUFValue)], tensors specs: [TensorSpec], path: String
    ) throws(GGUFError) -> (bytes: [UInt8], alignment: Int) {
        let alignment = try self.alignment(metadata, path: path)
        var bytes = GGUFFile.magic
        bytes.appendLittleEndian(GGUFFile.supportedVersion)
        bytes.appendLittleEndian(UInt64(specs.count))
        bytes.appendLittleEndian(UInt64(metadata.count))
        var keys = Set<String>()
        for (key, value) in metadata {
            guard keys.insert(key).inserted else { throw .duplicateKeyToWrite(path: path, key: key) }
            bytes.appendGGUFString(key)
            bytes.appendLittleEndian(value.type.rawValue)
            value.encode(into: &bytes)
        }
        var names = Set<String>()
        var offset = 0
        for spec in specs {
            guard !spec.name.isEmpty else { throw .emptyTensorNameToWrite(path: path) }
            guard names.insert(spec.name).inserted else { throw .duplicateTensorToWrite(path: path, tensor: spec.name) }
            guard let type = GGMLType.type(of: spec.dtype) else {
                throw .unsupportedDType(path: path, tensor: spec.name, dtype: spec.dtype.rawValue)
            }
            guard (1...GGMLType.maxDimensions).contains(spec.shape.count) else {
                throw .unwritableShape(path: path, tensor: spec.name, shape: spec.shapeDescription)
            }
            bytes.appendGGUFString(spec.name)
            bytes.appendLittleEndian(UInt32(spec.shape.count))
            for dimension in spec.shape.reversed() { bytes.appendLittleEndian(UInt64(dimension)) }
            bytes.appendLittleEndian(type)
            bytes.appendLittleEndian(UInt64(offset))
            offset += padded(spec.byteCount, to: alignment)
        }
        bytes += [UInt8](repeating: 0, count: padded(bytes.count, to: alignment) - bytes.count)
        return (bytes, alignment)
    }

    /// Writes `tensors`, in order, with `metadata`, into a new GGUF file at `path`.
    ///
    /// - Returns: the digest of the file's bytes, taken as they were written.
    /// - Throws: what `header` throws (before the file is created), or the sources' and the
    ///   file's errors.
    @discardableResult
    public static func write(
        _ tensors: [any TensorByteSource], metadata: [(key: String, value: GGUFValue)], to path: String
    ) throws -> WrittenDigest? {
        let (header, alignment) = try header(metadata: metadata, tensors: tensors.map(\.outputSpec), path: path)
        let sink = try BackgroundFileSink(creating: path)
        var output = sink
        do {
            try output.write(header)
            for tensor in tensors {
                let byteCount = tensor.outputSpec.byteCount
                let before = sink.bytesWritten
                try tensor.emit(into: &output)
                // A source that emits the wrong count would shift every later tensor: catch it here.
                let emitted = sink.bytesWritten - before
                precondition(emitted == byteCount, "\(tensor.outputSpec.name) emitted \(emitted) bytes")
                let padding = padded(byteCount, to: alignment) - byteCount
                if padding > 0 { try output.write([UInt8](repeating: 0, count: padding)) }
            }
            return try sink.close()
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// Writes `tensors` with `metadata` as GGUF strings (sorted by key).
    ///
    /// GGUF cannot store one tensor under two names, so `aliases` are not written.
    public static func writeFile(
        _ tensors: [any TensorByteSource], aliases: [(alias: String, target: String)] = [], metadata: [String: String],
        at path: String
    ) throws {
        try write(tensors, metadata: metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }, to: path)
    }

    /// `general.alignment` when given (a `uint32` power of two), else the default 32.
    private static func alignment(_ metadata: [(key: String, value: GGUFValue)], path: String) throws(GGUFError)
        -> Int
    {
        guard let value = metadata.first(where: { $0.key == GGUFFile.alignmentKey })?.value else {
            return GGUFFile.defaultAlignment
        }
        guard case let .uint32(alignment) = value, alignment != 0, alignment & (alignment - 1) == 0 else {
            throw .invalidAlignmentToWrite(path: path, value: "\(value.type.name) \(value.rendered)")
        }
        return Int(alignment)
    }

    /// `count` rounded up to a multiple of `alignment` (ggml's `GGML_PAD`).
    static func padded(_ count: Int, to alignment: Int) -> Int {
        (count + alignment - 1) / alignment * alignment
    }
}

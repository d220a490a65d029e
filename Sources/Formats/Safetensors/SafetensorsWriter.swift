import Foundation

/// Writes safetensors files, streaming one tensor at a time.
///
/// The header is computed from the tensor specs alone, so the data can follow without holding any
/// tensor in memory. Tensors are laid out in the order given.
public enum SafetensorsWriter: CheckpointWriter {
    public static let format = CheckpointFormat.safetensors

    /// Every file's `__metadata__` (string to string).
    public typealias Header = [String: String]

    /// Writes each of `files` as a safetensors file with `metadata`; aliases are not stored (see
    /// `writeFile`).
    public static func write(_ files: [WriterFile], header metadata: [String: String], in directory: URL) throws
        -> [WrittenFile]
    {
        try files.map { file in
            let digest = try writeFile(
                file.tensors, metadata: metadata, at: directory.appendingPathComponent(file.name).path)
            return WrittenFile(name: file.name, digest: digest)
        }
    }

    /// The 8-byte length and JSON header for `specs` laid out in order, padded with spaces to a
    /// multiple of 8 bytes so the data buffer starts aligned.
    public static func header(for specs: [TensorSpec], metadata: [String: String]) -> [UInt8] {
        var members: [JSONValue.Member] = []
        if !metadata.isEmpty {
            let entries = metadata.sorted { $0.key < $1.key }.map {
                JSONValue.Member(key: $0.key, value: .string($0.value))
            }
            members.append(JSONValue.Member(key: "__metadata__", value: .object(entries)))
        }
        var offset = 0
        for spec in specs {
            let entry: JSONValue = .object([
                JSONValue.Member(key: "dtype", value: .string(spec.dtype.safetensorsName)),
                JSONValue.Member(key: "shape", value: .array(spec.shape.map { .number(String($0)) })),
                JSONValue.Member(
                    key: "data_offsets",
                    value: .array([.number(String(offset)), .number(String(offset + spec.byteCount))])),
            ])
            members.append(JSONValue.Member(key: spec.name, value: entry))
            offset += spec.byteCount
        }
        var json = Array(JSONValue.object(members).serialized().utf8)
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        let length = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + json
    }

    /// Writes `tensors` into a new safetensors file at `path`.
    ///
    /// safetensors cannot store one tensor under two names, so `aliases` are not written here:
    /// callers record them in `metadata`.
    ///
    /// - Returns: the digest of the file's bytes, taken as they were written.
    @discardableResult
    public static func writeFile(
        _ tensors: [any TensorByteSource], aliases: [(alias: String, target: String)] = [], metadata: [String: String],
        at path: String
    ) throws -> WrittenDigest? {
        try tensors.requireElementwiseDTypes(format: format, path: path)
        let sink = try BackgroundFileSink(creating: path)
        var output = sink
        do {
            try output.write(header(for: tensors.map(\.outputSpec), metadata: metadata))
            for tensor in tensors {
                let before = sink.bytesWritten
                try tensor.emit(into: &output)
                // A source that emits the wrong count would shift every later tensor: catch it here.
                let emitted = sink.bytesWritten - before
                precondition(
                    emitted == tensor.outputSpec.byteCount, "\(tensor.outputSpec.name) emitted \(emitted) bytes")
            }
            return try sink.close()
        } catch {
            sink.abandon()
            throw error
        }
    }
}

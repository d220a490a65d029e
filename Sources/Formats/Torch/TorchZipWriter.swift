import Foundation

/// Writes `torch.save`-format files (`pytorch_model.bin`) that `torch.load(weights_only=True)`
/// and `torch.load(mmap=True)` read: records in the order torch 2.x writes them, one storage
/// member per tensor, tied names sharing one storage.
public enum TorchZipWriter: CheckpointWriter {
    public static let format = CheckpointFormat.pytorchZip

    /// Writes each of `files` as a `torch.save` file, its aliases on the storage of their target.
    /// No digests: the zip's CRCs are patched in after the data (`ZipWriter.finish`).
    public static func write(_ files: [WriterFile], header: NoHeader, in directory: URL) throws -> [WrittenFile] {
        try files.map { file in
            try writeFile(
                file.tensors, aliases: file.aliases, metadata: [:], at: directory.appendingPathComponent(file.name).path
            )
            return WrittenFile(name: file.name, digest: nil)
        }
    }

    public static func writeFile(
        _ tensors: [any TensorByteSource], aliases: [(alias: String, target: String)], metadata: [String: String],
        at path: String
    ) throws {
        try tensors.requireElementwiseDTypes(format: format, path: path)
        // torch names the archive's top folder after the file's stem.
        let prefix = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + "/"
        var entries: [PickleWriter.Entry] = []
        var keys: [String: String] = [:]
        for (index, tensor) in tensors.enumerated() {
            let spec = tensor.outputSpec
            keys[spec.name] = String(index)
            entries.append(
                .init(
                    name: spec.name, storageKey: String(index), dtype: spec.dtype,
                    storageElementCount: spec.elementCount, shape: spec.shape))
        }
        for (alias, target) in aliases {
            guard let key = keys[target], let original = entries.first(where: { $0.name == target }) else {
                preconditionFailure("alias \(alias) of \(target), which is not written")
            }
            entries.append(
                .init(
                    name: alias, storageKey: key, dtype: original.dtype,
                    storageElementCount: original.storageElementCount, shape: original.shape))
        }
        let pickle = PickleWriter.stateDict(entries)

        // Not digested: the zip's CRCs are patched in after the data (`ZipWriter.finish`).
        let sink = try BackgroundFileSink(creating: path, digesting: false)
        var zip = ZipWriter(sink: sink)
        do {
            try zip.addMember(prefix + "data.pkl", bytes: pickle)
            try zip.addMember(prefix + ".format_version", bytes: Array("1".utf8))
            try zip.addMember(prefix + ".storage_alignment", bytes: Array("64".utf8))
            try zip.addMember(prefix + "byteorder", bytes: Array("little".utf8))
            for (index, tensor) in tensors.enumerated() {
                try zip.addMember(prefix + "data/\(index)", size: tensor.outputSpec.byteCount) {
                    try tensor.emit(into: &$0)
                }
            }
            try zip.addMember(prefix + "version", bytes: Array("3\n".utf8))
            try zip.addMember(prefix + ".data/serialization_id", bytes: Array(serializationID(pickle).utf8))
            try zip.finish()
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// torch writes a random id here; zoo derives one from the pickle so equal inputs give equal files.
    private static func serializationID(_ pickle: [UInt8]) -> String {
        let crc = pickle.withUnsafeBytes { CRC32.checksum($0) }
        let digits = String(crc, radix: 10) + String(pickle.count)
        return String(repeating: "0", count: max(0, 40 - digits.count)) + digits
    }
}

import Foundation

/// Telling apart the model files zoo refuses by name (`ForeignFormat`), and whether a file is
/// weights at all (a model directory's other files are carried by a conversion).
extension Checkpoint {
    /// HDF5's format signature, at the start of a file without a user block (as Keras writes).
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The foreign format of the file at `url`, told from its bytes; `nil` if it is none of them.
    ///
    /// - Throws: `CheckpointError.io` or `.notARegularFile` when the file cannot be read.
    public static func foreignFormat(of url: URL) throws(CheckpointError) -> ForeignFormat? {
        let file = try MappedFile(path: url.path)
        return foreignFormat(prefix: file.withBytes(in: 0..<min(64, file.size)) { Array($0) }, file: file)
    }

    /// The foreign format of `file`, whose first (up to 64) bytes are `prefix`.
    static func foreignFormat(prefix: [UInt8], file: MappedFile) -> ForeignFormat? {
        if prefix.starts(with: hdf5Signature) { return .kerasHDF5 }
        if isStringKeyedMsgpackMap(prefix) { return .flaxMsgpack }
        if TorchZipReader.matches(prefix: prefix, fileSize: file.size), let names = ZipArchive.memberNames(file),
            isTorchScript(names)
        {
            return .torchScript
        }
        return nil
    }

    /// Whether the file at `url` is weights: a format zoo reads (by its bytes), a compressed file, a
    /// TensorFlow index, or a foreign model file. TensorFlow data shards are raw bytes and tell
    /// nothing; callers know them by name.
    ///
    /// - Throws: `CheckpointError.io` or `.notARegularFile` when the file cannot be read.
    public static func isWeightFile(_ url: URL) throws -> Bool {
        let (prefix, size) = try readPrefix(url)
        if Zstd.isCompressed(prefix: prefix)
            || byteReaders.contains(where: { $0.matches(prefix: prefix, fileSize: size) })
        {
            return true
        }
        if try endsWithTableMagic(url) { return true }
        return foreignFormat(prefix: prefix, file: try MappedFile(path: url.path)) != nil
    }

    /// A TorchScript archive holds the program beside its tensors: `<prefix>/code/...` and
    /// `<prefix>/constants.pkl`, which `torch.save` never writes.
    static func isTorchScript(_ members: [String]) -> Bool {
        members.contains { name in
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count >= 2 && (parts[1] == "code" || (parts.count == 2 && parts[1] == "constants.pkl"))
        }
    }

    /// A msgpack map (fixmap, map16 or map32) whose first key is a printable string, as
    /// `flax.serialization.to_bytes` writes (`{"params": {...}}`, or the modules' names).
    static func isStringKeyedMsgpackMap(_ prefix: [UInt8]) -> Bool {
        guard let first = prefix.first else { return false }
        var position: Int
        switch first {
        case 0x81...0x8F: position = 1
        case 0xDE: position = 3
        case 0xDF: position = 5
        default: return false
        }
        guard position < prefix.count else { return false }
        let marker = prefix[position]
        let length: Int
        switch marker {
        case 0xA1...0xBF: (length, position) = (Int(marker & 0x1F), position + 1)
        case 0xD9 where position + 1 < prefix.count: (length, position) = (Int(prefix[position + 1]), position + 2)
        default: return false
        }
        let key = prefix.dropFirst(position).prefix(length)
        return length > 0 && !key.isEmpty && key.allSatisfy { (0x20...0x7E).contains($0) }
    }
}

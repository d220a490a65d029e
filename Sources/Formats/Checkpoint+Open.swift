import Foundation

/// The one place that tells formats apart and opens the right reader.
extension Checkpoint {
    /// Readers that recognise their files from bytes alone, in the order they are asked.
    static var byteReaders: [any CheckpointReader.Type] {
        [SafetensorsReader.self, TorchZipReader.self, TorchLegacyReader.self, GGUFReader.self]
    }

    /// Opens a checkpoint file, sharded index, or model directory.
    ///
    /// The format comes from the file's bytes, never its name. A directory is searched for
    /// `model.safetensors.index.json`, `model.safetensors`, a single `*.safetensors` file,
    /// `pytorch_model.bin.index.json`, `pytorch_model.bin`, a TensorFlow checkpoint (the
    /// `checkpoint` file's latest prefix, or the one `*.index`), then a single `*.gguf` file. A TensorFlow checkpoint can also be
    /// named by its prefix (`dir/model.ckpt-524288`) or its `.index` file.
    ///
    /// - Throws: `CheckpointError.foreignFormat` for a model file zoo knows but does not read (given
    ///   directly, or the one such file of a directory without a checkpoint), another
    ///   `CheckpointError` when nothing readable is found, or the reader's own error.
    public static func open(_ url: URL, checksums: ChecksumPolicy = .verifyOnOpen) throws -> Checkpoint {
        // A FIFO, socket or device is refused before anything opens it (an open could block);
        // a symlink loop is named as such. A missing path may still be a TensorFlow prefix.
        if let problem = FileKind.problem(url.path) { throw problem }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            // A TensorFlow checkpoint is named by its prefix (`model.ckpt-524288`), not a file.
            if let index = TensorBundle.indexFile(for: url) {
                return try TensorBundle.open(index: index, checksums: checksums)
            }
            throw CheckpointError.io(path: url.path, operation: "open", errno: ENOENT)
        }
        if isDirectory.boolValue { return try openDirectory(url, checksums: checksums) }

        let (prefix, size) = try readPrefix(url)
        if Zstd.isCompressed(prefix: prefix) { return try openCompressed(url, checksums: checksums) }
        if try endsWithTableMagic(url) { return try TensorBundle.open(index: url, checksums: checksums) }
        if let reader = byteReaders.first(where: { $0.matches(prefix: prefix, fileSize: size) }) {
            do {
                return try reader.open(url, checksums: checksums)
            } catch {
                // A torch zip refused for what it holds may be a TorchScript program: say so.
                if reader.format == .pytorchZip,
                    let foreign = foreignFormat(prefix: prefix, file: try MappedFile(path: url.path))
                {
                    throw CheckpointError.foreignFormat(path: url.path, format: foreign)
                }
                throw error
            }
        }
        if prefix.first == UInt8(ascii: "{") && url.lastPathComponent.hasSuffix(".index.json") {
            return url.lastPathComponent == ShardedTorch.indexFileName
                ? try ShardedTorch.open(url, checksums: checksums)
                : try ShardedSafetensors.open(url, checksums: checksums)
        }
        if let foreign = foreignFormat(prefix: prefix, file: try MappedFile(path: url.path)) {
            throw CheckpointError.foreignFormat(path: url.path, format: foreign)
        }
        // Unrecognised bytes in a file named like safetensors: let the reader say exactly what is wrong.
        if url.pathExtension == "safetensors" {
            return try SafetensorsReader.open(url)
        }
        throw CheckpointError.unrecognizedFormat(path: url.path, firstBytes: hex(prefix.prefix(16)))
    }

    /// A `*.zst` file: decompressed (streaming) into a temporary file that is opened and unlinked at
    /// once (the mapping keeps it readable; nothing is left behind on disk).
    private static func openCompressed(_ url: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        let name =
            url.lastPathComponent.hasSuffix(Zstd.suffix)
            ? String(url.lastPathComponent.dropLast(Zstd.suffix.count)) : url.lastPathComponent
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "zoo-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let plain = scratch.appendingPathComponent(name)
        try Zstd.decompress(url, to: plain)
        let inner = try open(plain, checksums: checksums)
        return Checkpoint(
            format: inner.format, location: url, directory: url.deletingLastPathComponent(), files: [url],
            tensors: inner.tensors, metadata: inner.metadata, skipped: inner.skipped, unverified: inner.unverified)
    }

    private static func openDirectory(_ directory: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if contents.contains(ShardedSafetensors.indexFileName) {
            return try ShardedSafetensors.open(
                directory.appendingPathComponent(ShardedSafetensors.indexFileName), checksums: checksums)
        }
        for name in ["model.safetensors", "model.safetensors" + Zstd.suffix] where contents.contains(name) {
            return try open(directory.appendingPathComponent(name), checksums: checksums)
        }
        let safetensors = contents.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }
        if safetensors.count == 1 {
            return try open(directory.appendingPathComponent(safetensors[0]), checksums: checksums)
        }
        if contents.contains(ShardedTorch.indexFileName) {
            return try ShardedTorch.open(
                directory.appendingPathComponent(ShardedTorch.indexFileName), checksums: checksums)
        }
        for name in ["pytorch_model.bin", "pytorch_model.bin" + Zstd.suffix] where contents.contains(name) {
            return try open(directory.appendingPathComponent(name), checksums: checksums)
        }
        if let index = TensorBundle.indexFile(for: directory) {
            return try TensorBundle.open(index: index, checksums: checksums)
        }
        let gguf = contents.filter { $0.hasSuffix(".gguf") && !$0.hasPrefix(".") }
        if gguf.count == 1 {
            return try open(directory.appendingPathComponent(gguf[0]), checksums: checksums)
        }
        // No checkpoint zoo reads: name the model file it found instead, if there is one
        // (`tf_model.h5`, `flax_model.msgpack`, a TorchScript `model.pt`), told from its bytes.
        for name in contents.sorted().prefix(maxFilesProbed) where !name.hasPrefix(".") {
            let url = directory.appendingPathComponent(name)
            if let foreign = try? foreignFormat(of: url) {
                throw CheckpointError.foreignFormat(path: url.path, format: foreign)
            }
        }
        throw CheckpointError.noCheckpointInDirectory(path: directory.path, contents: contents)
    }

    /// How many of a directory's files are probed for a foreign model file when it holds no checkpoint.
    static let maxFilesProbed = 64

    /// Whether the file's last 8 bytes are the LevelDB table magic (a TensorFlow checkpoint index).
    static func endsWithTableMagic(_ url: URL) throws -> Bool {
        let file = try MappedFile(path: url.path)
        guard file.size >= SSTable.footerSize else { return false }
        return file.withBytes(in: (file.size - 8)..<file.size) { ByteReader($0).integer(at: 0, as: UInt64.self) }
            == SSTable.magic
    }

    /// Up to 64 bytes from the start of the file, and its size.
    static func readPrefix(_ url: URL) throws -> ([UInt8], Int) {
        let file = try MappedFile(path: url.path)
        let prefix = file.withBytes(in: 0..<min(64, file.size)) { Array($0) }
        return (prefix, file.size)
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.isEmpty ? "(empty file)" : bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}

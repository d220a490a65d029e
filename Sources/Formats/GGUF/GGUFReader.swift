import Foundation

/// Reads a GGUF file (llama.cpp's format, version 3, little-endian): validates the whole header,
/// then hands out mapped tensors of type F32, F16, BF16 and Q8_0.
///
/// Shapes are row-major (numpy order, outermost first), the reverse of the `ne` ggml stores: a
/// `[vocab, d_model]` embedding is stored with dimensions `[d_model, vocab]`. `GGUFTensorInfo`
/// keeps the stored order too.
public enum GGUFReader: CheckpointReader {
    public static let format = CheckpointFormat.gguf

    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool {
        prefix.starts(with: GGUFFile.magic)
    }

    /// Opens `url` and returns both its typed header (`GGUFFile`: metadata as `GGUFValue`s, in file
    /// order, tensor infos, alignment) and the checkpoint (tensors mapped, no copy; metadata
    /// rendered as strings).
    ///
    /// - Throws: `GGUFError` for a malformed or unsupported file, `CheckpointError.io` if it
    ///   cannot be read.
    public static func read(_ url: URL) throws -> (file: GGUFFile, checkpoint: Checkpoint) {
        let file = try MappedFile(path: url.path)
        let gguf = try file.withBytes(in: 0..<file.size) { bytes throws(GGUFError) in
            try GGUFFile(parsing: bytes, path: url.path)
        }
        let tensors = gguf.tensors.map { TensorRef(spec: $0.spec, file: file, fileOffset: $0.fileOffset) }
        let checkpoint = Checkpoint(
            format: .gguf, location: url, directory: url.deletingLastPathComponent(), files: [url],
            tensors: tensors, metadata: gguf.renderedMetadata)
        return (gguf, checkpoint)
    }

    /// GGUF stores no checksums, so `checksums` changes nothing.
    public static func open(_ url: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        try read(url).checkpoint
    }
}

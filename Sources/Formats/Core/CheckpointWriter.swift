import Foundation

/// One file of a checkpoint to write: its name in the output directory and its tensors, in order.
public struct WriterFile {
    public let name: String
    public let tensors: [any TensorByteSource]
    /// More names for tensors in `tensors` (alias -> the name written), for formats that store one
    /// tensor under several names; formats that cannot ignore them.
    public let aliases: [(alias: String, target: String)]

    public init(name: String, tensors: [any TensorByteSource], aliases: [(alias: String, target: String)] = []) {
        self.name = name
        self.tensors = tensors
        self.aliases = aliases
    }
}

/// A format's writer: the weight files of one checkpoint, each tensor streamed from its source.
///
/// Every format implements this one protocol; what a format keeps besides its tensors (safetensors'
/// string metadata, GGUF's typed key-values, a TensorFlow bundle's prefix) travels as its `Header`.
/// Which tensors go into which file, and the files' names, are decided by the caller.
public protocol CheckpointWriter {
    /// What the format stores besides its tensors.
    associatedtype Header: Sendable
    static var format: CheckpointFormat { get }

    /// Writes `files`, in order, as new files in `directory` (which the caller has staged).
    ///
    /// - Returns: the files written, in order: `files`' own, then the format's bookkeeping (a
    ///   TensorFlow bundle's `.index`), each with the digest taken as it was written where there is one.
    /// - Throws: `CheckpointError.unsupportedDType` (or the format's error) for a tensor the format
    ///   cannot store, before its file is created; the sources' and the files' errors.
    static func write(_ files: [WriterFile], header: Header, in directory: URL) throws -> [WrittenFile]
}

/// A file a writer wrote: its name in the output directory, and the digest of its bytes taken as
/// they were written (`nil` when the writer did not take one).
public struct WrittenFile: Sendable {
    public let name: String
    public let digest: WrittenDigest?

    public init(name: String, digest: WrittenDigest?) {
        self.name = name
        self.digest = digest
    }
}

/// The header of a format that keeps nothing besides its tensors and their names.
public struct NoHeader: Sendable {
    public init() {}
}

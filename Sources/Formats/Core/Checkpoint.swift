import Foundation

/// The on-disk layouts zoo knows, told apart by their bytes.
public enum CheckpointFormat: String, Sendable, Codable, CaseIterable {
    case safetensors = "safetensors"
    case safetensorsSharded = "safetensors-sharded"
    case pytorchZip = "pytorch-zip"
    case pytorchLegacy = "pytorch-legacy"
    case pytorchSharded = "pytorch-sharded"
    case tensorflowBundle = "tensorflow-bundle"
    case gguf = "gguf"

    /// Whether a checkpoint of this format is named by a file inside its model directory (a
    /// sharded index, a TensorFlow prefix or `.index`), whose other files are the directory's.
    public var isIndexInModelDirectory: Bool {
        switch self {
        case .safetensorsSharded, .pytorchSharded, .tensorflowBundle: true
        case .safetensors, .pytorchZip, .pytorchLegacy, .gguf: false
        }
    }

    /// How people call it.
    public var displayName: String {
        switch self {
        case .safetensors: "safetensors"
        case .safetensorsSharded: "safetensors (sharded)"
        case .pytorchZip: "PyTorch zip (torch.save)"
        case .pytorchLegacy: "PyTorch legacy (torch.save before 1.6)"
        case .pytorchSharded: "PyTorch (sharded)"
        case .tensorflowBundle: "TensorFlow checkpoint (TensorBundle)"
        case .gguf: "GGUF (llama.cpp)"
        }
    }
}

/// An opened checkpoint: every tensor, still in its mapped file, and the metadata the format kept.
public struct Checkpoint: Sendable {
    public let format: CheckpointFormat
    /// What the user pointed at (a file, an index or a model directory).
    public let location: URL
    /// The directory holding the checkpoint's files, where `config.json` would be.
    public let directory: URL
    /// The data files read, in order.
    public let files: [URL]
    /// Every tensor, in file order (shard by shard for sharded checkpoints).
    public let tensors: [TensorRef]
    /// Format metadata (safetensors `__metadata__`).
    public let metadata: [String: String]
    /// Entries that are not tensors (a training checkpoint's epoch, learning rate, ...), as
    /// `name (type)`, reported rather than converted.
    public let skipped: [String]
    /// Parts of the files whose bytes no stored checksum covers although the format has room for
    /// one (zip members written with torch's CRC-32 turned off), as `file: member`: read, but
    /// unverified, and reported as such.
    public let unverified: [String]

    public init(
        format: CheckpointFormat, location: URL, directory: URL, files: [URL], tensors: [TensorRef],
        metadata: [String: String], skipped: [String] = [], unverified: [String] = []
    ) {
        self.format = format
        self.location = location
        self.directory = directory
        self.files = files
        self.tensors = tensors
        self.metadata = metadata
        self.skipped = skipped
        self.unverified = unverified
    }

    /// The tensor named `name`, if any.
    public func tensor(named name: String) -> TensorRef? {
        tensors.first { $0.name == name }
    }

    /// Total bytes of tensor data, counting bytes that several names share (tied tensors in a
    /// PyTorch file) once.
    public var tensorBytes: Int {
        var seen = Set<String>()
        return tensors.reduce(0) { total, tensor in
            seen.insert("\(ObjectIdentifier(tensor.file))@\(tensor.fileOffset)+\(tensor.spec.byteCount)").inserted
                ? total + tensor.spec.byteCount : total
        }
    }
}

/// When the checksums a format stores (zip CRC-32s) are checked.
public enum ChecksumPolicy: Sendable {
    /// Every checksum is checked before `open` returns (inspecting, comparing).
    case verifyOnOpen
    /// Checksums of bytes that belong to exactly one tensor are checked as that tensor is read
    /// (`TensorRef.forEachVerifiedChunk`), the others at open: a conversion then reads each byte
    /// once instead of twice, and a mismatch still fails it before its output is renamed into place.
    case verifyWhenRead
}

/// A format's reader: recognises its files from their first bytes and opens them.
public protocol CheckpointReader {
    static var format: CheckpointFormat { get }
    /// Whether a file starting with `prefix` (at most 64 bytes) and `fileSize` long is in this format.
    static func matches(prefix: [UInt8], fileSize: Int) -> Bool
    /// Opens the checkpoint at `url`, validating everything the format lets it check.
    static func open(_ url: URL, checksums: ChecksumPolicy) throws -> Checkpoint
}

extension CheckpointReader {
    /// Opens the checkpoint at `url`, checking every stored checksum before returning.
    public static func open(_ url: URL) throws -> Checkpoint {
        try open(url, checksums: .verifyOnOpen)
    }
}

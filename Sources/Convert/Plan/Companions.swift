import Formats
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files of a model directory that are not its weights (tokenizer files,
/// `generation_config.json`, `operative_config.gin`, `README.md`, ...), carried byte for byte into
/// a directory output so that it stays usable (`AutoTokenizer`) and traceable to its training run.
///
/// The policy, applied to each entry of the source directory:
/// - carried: a regular file (or a symbolic link to one: a hub cache snapshot is made of links
///   into its `blobs/`) of at most `sizeLimit` bytes that is not a weight file;
/// - not carried, not reported: the checkpoint's own files (weights, shards, the index, a
///   TensorFlow index/data/`checkpoint`), `config.json` (the conversion writes its own, from the
///   source's), and the manifests zoo rewrites (`SHA256SUMS`, `*.sha256`);
/// - not carried, reported: weight files of any known format (by name or by bytes), files larger
///   than `sizeLimit`, partial downloads (`*.part`, `*.incomplete`, `*.tmp`), hidden entries
///   (`.gitattributes`, `.cache/`, zoo's own `.zoo-partial-*`), subdirectories, symbolic links to
///   anything but a regular file, and special files;
/// - an error naming the file: a file that should be carried but cannot be read.
public struct Companions: Sendable {
    /// Why an entry of the source directory was not carried.
    public enum Reason: String, Sendable, Equatable {
        case weights = "a weight file"
        case tooLarge = "larger than 64 MiB"
        case hidden = "hidden (its name starts with a dot)"
        case partial = "a partial download or temporary file"
        case subdirectory = "a subdirectory"
        case link = "a symbolic link to something other than a regular file"
        case special = "not a regular file"
    }

    /// Files larger than this are not carried (a tokenizer is a few MB; anything bigger is data).
    public static let sizeLimit = 64 << 20

    /// Names of files written by zoo itself, whatever the source holds under them.
    static let rewritten: Set<String> = ["config.json", "SHA256SUMS", "checkpoint"]

    /// Extensions of weight files, of formats zoo reads and of the ones it does not.
    static let weightExtensions: Set<String> = [
        "safetensors", "bin", "pt", "pth", "ckpt", "h5", "hdf5", "keras", "msgpack", "ot", "onnx", "tflite",
        "gguf", "ggml", "npz", "npy", "pb", "zst", "index", "meta",
    ]

    /// Extensions of unfinished files (zoo pull's `.part`, the hub client's `.incomplete`).
    static let partialExtensions = ["part", "incomplete", "tmp"]

    /// The source directory.
    public let directory: URL
    /// Files to copy, by name, sorted.
    public let files: [String]
    /// Entries not copied, with the reason (the checkpoint's own files are not listed).
    public let leftOut: [(name: String, reason: Reason)]

    /// No companions (a single-file source or output).
    public init(none directory: URL) {
        self.directory = directory
        files = []
        leftOut = []
    }

    /// Sorts the entries of `checkpoint`'s directory into carried and left out.
    ///
    /// - Throws: `ConvertError.unreadableCompanion` for a file to carry that cannot be read.
    public init(of checkpoint: Checkpoint) throws(ConvertError) {
        directory = checkpoint.directory
        // The data files read, and what the user named (a sharded index, a TensorFlow index).
        let own = Set((checkpoint.files + [checkpoint.location]).map(\.lastPathComponent))
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        var files: [String] = []
        var leftOut: [(String, Reason)] = []
        for name in names where !own.contains(name) && !Self.rewritten.contains(name) && !name.hasSuffix(".sha256") {
            if name.hasPrefix(".") {
                leftOut.append((name, .hidden))
                continue
            }
            let path = directory.appendingPathComponent(name).path
            var status = stat()
            guard lstat(path, &status) == 0 else { throw .unreadableCompanion(path: path, reason: Self.reason(errno)) }
            if (status.st_mode & S_IFMT) == S_IFLNK {
                // Followed to a regular file only (a hub snapshot links every file into blobs/).
                guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
                    leftOut.append((name, .link))
                    continue
                }
            }
            switch status.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR:
                leftOut.append((name, .subdirectory))
                continue
            default:
                leftOut.append((name, .special))
                continue
            }
            if Self.partialExtensions.contains(where: { name.lowercased().hasSuffix("." + $0) }) {
                leftOut.append((name, .partial))
                continue
            }
            if Self.isWeightName(name) {
                leftOut.append((name, .weights))
                continue
            }
            if Int(status.st_size) > Self.sizeLimit {
                leftOut.append((name, .tooLarge))
                continue
            }
            do {
                if try Checkpoint.isWeightFile(URL(fileURLWithPath: path)) {
                    leftOut.append((name, .weights))
                    continue
                }
            } catch let error as CheckpointError {
                throw .unreadableCompanion(path: path, reason: Self.reason(error))
            } catch {
                throw .unreadableCompanion(path: path, reason: "\(error)")
            }
            files.append(name)
        }
        self.files = files
        self.leftOut = leftOut.map { (name: $0.0, reason: $0.1) }
    }

    /// Copies every companion into `output`, byte for byte, each file `fsync`'d.
    ///
    /// - Throws: `ConvertError.unreadableCompanion` naming a file that cannot be read, or the
    ///   `CheckpointError` of a failed write.
    public func copy(into output: URL) throws {
        for name in files {
            let source = directory.appendingPathComponent(name).path
            let file: MappedFile
            do {
                file = try MappedFile(path: source)
            } catch {
                throw ConvertError.unreadableCompanion(path: source, reason: Self.reason(error))
            }
            let sink = try FileSink(creating: output.appendingPathComponent(name).path)
            try file.withBytes(in: 0..<file.size) { try sink.write($0) }
            try sink.close()
        }
    }

    /// Whether `name` is a weight file of some format, or the index of sharded ones, by its name
    /// alone (TensorFlow data shards, `model.ckpt-1000.data-00000-of-00002`, have nothing else to go by).
    static func isWeightName(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if lowered.hasSuffix(".index.json") { return true }
        if let dot = lowered.lastIndex(of: "."),
            weightExtensions.contains(String(lowered[lowered.index(after: dot)...]))
        {
            return true
        }
        return lowered.range(of: #"\.data-\d{5}-of-\d{5}$"#, options: .regularExpression) != nil
    }

    private static func reason(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    private static func reason(_ error: CheckpointError) -> String {
        if case let .io(_, operation, code) = error { return "\(operation) failed: \(reason(code))" }
        return error.description
    }
}

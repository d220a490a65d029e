/// Errors about files and formats in general, before a specific format's reader takes over.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call on `path` failed.
    case io(path: String, operation: String, errno: Int32)
    /// `path` is not a regular file (a directory, a device, ...).
    case notARegularFile(path: String)
    /// The bytes of `path` match no format zoo knows.
    case unrecognizedFormat(path: String, firstBytes: String)
    /// The format was recognised but zoo cannot read it yet.
    case unsupportedFormat(path: String, format: String)
    /// A directory holds no checkpoint zoo can find.
    case noCheckpointInDirectory(path: String, contents: [String])
    /// The output exists and is not empty, and `--force` was not given.
    case outputExists(path: String)
    /// The output would overwrite or sit inside the input.
    case outputOverlapsInput(output: String, input: String)

    public var description: String {
        switch self {
        case let .io(path, operation, errno):
            "\(path): \(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case let .notARegularFile(path):
            "\(path): not a regular file"
        case let .unrecognizedFormat(path, firstBytes):
            "\(path): not a checkpoint format zoo recognises (first bytes at offset 0: \(firstBytes))"
        case let .unsupportedFormat(path, format):
            "\(path): \(format) checkpoints are recognised but not readable by this version of zoo"
        case let .noCheckpointInDirectory(path, contents):
            "\(path): no checkpoint found (looked for model.safetensors.index.json, model.safetensors, "
                + "or a single *.safetensors file; the directory holds: "
                + (contents.isEmpty ? "nothing" : contents.sorted().prefix(12).joined(separator: ", ")) + ")"
        case let .outputExists(path):
            "\(path): output exists and is not empty; pass --force to replace it"
        case let .outputOverlapsInput(output, input):
            "\(output): the output would overwrite the input \(input)"
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

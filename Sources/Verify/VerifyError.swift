/// Why a verification could not run or did not pass.
public enum VerifyError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidBatch(String)
    case invalidManifest(path: String, line: Int)
    /// A manifest with no entries: it proves nothing, so it cannot pass.
    case emptyManifest(path: String)
    /// `zoo checksum` would replace a manifest that the files no longer match.
    case manifestOutdated(path: String, file: String)
    case download(url: String, reason: String)
    case missingOnMirror(url: String)
    case unsupportedCheckpoint(name: String, reason: String)
    case pulledCheckpointInvalid(name: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidBatch(reason): "invalid input batch: \(reason)"
        case let .download(url, reason): "\(url): \(reason)"
        case let .missingOnMirror(url): "\(url): not on the mirror"
        case let .unsupportedCheckpoint(name, reason): "\(name) cannot be pulled: \(reason)"
        case let .pulledCheckpointInvalid(name, reason):
            "\(name): the downloaded checkpoint does not match the registry (\(reason)); it was not kept"
        case let .invalidManifest(path, line):
            "\(path): line \(line) is not '<sha256 hex>  <relative file name>'"
        case let .emptyManifest(path):
            "\(path): the manifest lists no files, so it checks nothing"
        case let .manifestOutdated(path, file):
            "\(path): \(file) no longer matches its SHA-256 in this manifest; replacing the manifest would hide "
                + "the change"
        }
    }
}

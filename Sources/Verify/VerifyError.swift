/// Why a verification could not run or did not pass.
public enum VerifyError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidBatch(String)
    case invalidManifest(path: String, line: Int)
    /// A manifest with no entries: it proves nothing, so it cannot pass.
    case emptyManifest(path: String)
    /// `zoo checksum` would replace a manifest that the files no longer match.
    case manifestOutdated(path: String, file: String)

    public var description: String {
        switch self {
        case let .invalidBatch(reason): "invalid input batch: \(reason)"
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

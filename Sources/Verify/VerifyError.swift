/// Why a verification could not run or did not pass.
public enum VerifyError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidBatch(String)
    case invalidManifest(path: String, line: Int)
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
        }
    }
}

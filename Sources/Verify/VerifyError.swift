/// Why a verification could not run or did not pass.
public enum VerifyError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidBatch(String)
    case invalidManifest(path: String, line: Int)

    public var description: String {
        switch self {
        case let .invalidBatch(reason): "invalid input batch: \(reason)"
        case let .invalidManifest(path, line):
            "\(path): line \(line) is not '<sha256 hex>  <relative file name>'"
        }
    }
}

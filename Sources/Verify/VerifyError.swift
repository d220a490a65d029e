/// Why a verification could not run or did not pass.
public enum VerifyError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidBatch(String)

    public var description: String {
        switch self {
        case let .invalidBatch(reason): "invalid input batch: \(reason)"
        }
    }
}

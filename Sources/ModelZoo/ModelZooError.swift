/// Why the model zoo could not name, find, fetch or install a checkpoint.
public enum ModelZooError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidRegistry(reason: String)
    case unknownCheckpoint(name: String, closest: [String])
    case download(url: String, reason: String)
    case missingOnMirror(url: String)
    case unsupportedCheckpoint(name: String, reason: String)
    case pulledCheckpointInvalid(name: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidRegistry(reason): "invalid registry: \(reason)"
        case let .unknownCheckpoint(name, closest):
            "no such checkpoint '\(name)'; closest: \(closest.joined(separator: ", "))"
        case let .download(url, reason): "\(url): \(reason)"
        case let .missingOnMirror(url): "\(url): not on the mirror"
        case let .unsupportedCheckpoint(name, reason): "\(name) cannot be pulled: \(reason)"
        case let .pulledCheckpointInvalid(name, reason):
            "\(name): the downloaded checkpoint does not match the registry (\(reason)); it was not kept"
        }
    }
}

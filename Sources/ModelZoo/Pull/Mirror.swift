import Convert
import Foundation
import Verify

/// Where `zoo pull` downloads from: an HTTP(S) server laid out like the Hugging Face hub
/// (`<url>/<owner>/<name>/resolve/main/<file>`), or a local directory of hub clones
/// (`<dir>/<owner>/<name>/<file>`).
public enum Mirror: Sendable, Equatable {
    case http(URL)
    case directory(URL)

    /// `https://...` / `http://...` is a server; anything else is a directory path.
    public init(_ text: String) {
        if let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" {
            self = .http(url)
        } else {
            self = .directory(URL(fileURLWithPath: text))
        }
    }

    /// Where `file` of `repo` (`google/t5-efficient-tiny`) is on this mirror.
    public func location(of file: String, in repo: String) -> URL {
        switch self {
        case let .http(base):
            base.appendingPathComponent(repo).appendingPathComponent("resolve/main").appendingPathComponent(file)
        case let .directory(root): root.appendingPathComponent(repo).appendingPathComponent(file)
        }
    }
}

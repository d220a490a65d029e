import Convert
import Foundation
import Verify

/// Where pulled checkpoints live: `$ZOO_HOME`, else `$XDG_CACHE_HOME/zoo`, else `~/.cache/zoo`.
///
/// `models/<name>/` holds complete, verified checkpoints; `partial/<name>/` holds downloads in
/// progress (resumed by the next pull) and is renamed into `models/` only once verified.
public struct ModelCache: Sendable {
    public let home: URL

    /// A cache rooted at `home`.
    public init(home: URL) {
        self.home = home
    }

    /// The cache the environment names.
    public static var standard: ModelCache { ModelCache(home: defaultHome) }

    private static var defaultHome: URL {
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["ZOO_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            return URL(fileURLWithPath: cache).appendingPathComponent("zoo")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/zoo")
    }

    public func model(_ name: String) -> URL { home.appendingPathComponent("models").appendingPathComponent(name) }
    public func partial(_ name: String) -> URL { home.appendingPathComponent("partial").appendingPathComponent(name) }
}

import Formats
import Foundation

/// Paths of the committed fixtures (written by `Scripts/make-fixtures.py`).
public enum Fixtures {
    /// The repository root, found from this file's location.
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/<relative>`.
    public static func url(_ relative: String) -> URL {
        repository.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative)
    }

    /// The bundled sample model directory.
    public static let sample = repository.appendingPathComponent("Sources/zoo/Sample/t5-efficient-sample")

    /// The `{"file": {"error": case, "why": ...}}` manifest of a bad-input corpus folder.
    public static func manifest(_ folder: String) throws -> [(file: String, error: String)] {
        let data = try Data(contentsOf: url(folder).appendingPathComponent("manifest.json"))
        let root = try JSONParser.parse(Array(data))
        return (root.members ?? []).map { ($0.key, $0.value["error"]?.stringValue ?? "") }.sorted { $0.file < $1.file }
    }
}

/// A fresh temporary directory, removed when the value is released.
public final class TemporaryDirectory: Sendable {
    public let url: URL

    public init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// A path inside the directory.
    public func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Names of the entries in the directory (hidden ones included).
    public func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }
}

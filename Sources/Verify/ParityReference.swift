import Convert
import Formats
import Foundation

/// The checkpoint a conversion's output is checked against.
///
/// For most sources that is the source itself. A Mesh-TF source has other names and transposed
/// matrices, so its variables are first written in transformers' names and layout, in their own
/// dtypes, to a temporary safetensors file (removed when this is released): the forward pass and
/// the tensor comparison then run on it as on any transformers checkpoint. The name table and the
/// transposes themselves are checked against transformers' own TF loader by the interop script.
public final class ParityReference {
    public let checkpoint: AnalyzedCheckpoint
    private let temporaryDirectory: URL?

    /// The reference for `source`.
    ///
    /// - Throws: write errors for the temporary copy of a Mesh-TF source.
    public init(for source: AnalyzedCheckpoint) throws {
        guard let layout = source.meshTF else {
            checkpoint = source
            temporaryDirectory = nil
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "zoo-reference-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let file = directory.appendingPathComponent("model.safetensors")
            try SafetensorsWriter.writeFile(
                layout.tensors.map { $0.emitted() }, metadata: ["format": "pt"], at: file.path)
            checkpoint = try AnalyzedCheckpoint(opening: file)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        temporaryDirectory = directory
    }

    deinit {
        if let temporaryDirectory { try? FileManager.default.removeItem(at: temporaryDirectory) }
    }
}

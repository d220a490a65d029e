import Formats
import Foundation

/// What a plan needs from disk besides the source's tensors, read in one place so that
/// `ConversionPlan(source:request:context:)` does no I/O: where the paths really lead, the
/// source directory's other files, its `operative_config.gin` and `config.json` text, and the
/// tokenizer a GGUF output carries. Each is read only when the requested output needs it.
public struct PlanningContext: Sendable {
    /// A source directory's `operative_config.gin`, parsed, and where it is.
    public struct SourceGin: Sendable {
        public let config: MeshTFGinConfig
        public let url: URL
    }

    /// The destination as given, and with symbolic links resolved.
    public let destination: String
    public let resolvedDestination: String
    /// The source's location, directory and files, symbolic links resolved.
    public let resolvedInputs: [String]
    /// Whether the source is a model directory (or an index or TensorFlow prefix inside one), whose
    /// other files a directory output carries.
    public let sourceIsModelDirectory: Bool
    /// The files a directory output carries (none unless the source is a model directory and the
    /// output is a directory).
    public let companions: Companions
    /// The source directory's `operative_config.gin`, read for an output that keeps it
    /// (`PlanningNeeds.sourceGin`).
    public let sourceGin: SourceGin?
    /// The source directory's `config.json` text, if it has one.
    public let sourceConfigText: String?
    /// The SentencePiece model an output carries (`PlanningNeeds.tokenizer`): `request.tokenizer`,
    /// else the source directory's `spiece.model`; `nil` for other outputs, or when there is neither.
    public let tokenizer: SentencePieceModel?

    /// Reads what planning `request` for `source` needs.
    ///
    /// - Throws: `ConvertError` for a companion or gin file that cannot be read, the tokenizer's
    ///   read errors.
    public init(gathering request: ConversionPlan.Request, source: AnalyzedCheckpoint) throws {
        let checkpoint = source.checkpoint
        func resolved(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }
        destination = request.destination.path
        resolvedDestination = resolved(request.destination)
        resolvedInputs = ([checkpoint.location, checkpoint.directory] + checkpoint.files).map(resolved)
        sourceIsModelDirectory = ConversionPlan.isModelDirectory(request.source, checkpoint)

        let needs = request.outputFormat.scheme.planningNeeds
        companions =
            request.writesDirectory && sourceIsModelDirectory
            ? try Companions(of: checkpoint) : Companions(none: checkpoint.directory)
        if needs.contains(.sourceGin) && companions.files.contains(MeshTFLayout.ginFileName) {
            let url = companions.directory.appendingPathComponent(MeshTFLayout.ginFileName)
            sourceGin = SourceGin(config: try MeshTFLayout.readGin(at: url), url: url)
        } else {
            sourceGin = nil
        }
        sourceConfigText = Self.text(of: checkpoint.directory.appendingPathComponent("config.json"))
        let found = checkpoint.directory.appendingPathComponent("spiece.model")
        if needs.contains(.tokenizer),
            let url = request.tokenizer ?? (FileManager.default.fileExists(atPath: found.path) ? found : nil)
        {
            tokenizer = try SentencePieceModel.read(url)
        } else {
            tokenizer = nil
        }
    }

    /// A UTF-8 text file's contents, or `nil` if it is absent or not UTF-8.
    static func text(of url: URL) -> String? {
        FileManager.default.contents(atPath: url.path).flatMap { String(validating: $0, as: UTF8.self) }
    }
}

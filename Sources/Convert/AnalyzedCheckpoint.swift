import Formats
import Foundation

/// A checkpoint opened together with its `config.json` and read as T5 where it is one.
public struct AnalyzedCheckpoint: Sendable {
    public let checkpoint: Checkpoint
    /// The parsed `config.json` beside the checkpoint, if there is one.
    public let configJSON: JSONValue?
    /// The T5 reading of the tensors, or why they are not (or not a valid) T5 model. For a Mesh-TF
    /// checkpoint it describes the transformers model the variables map to.
    public let t5: Result<T5Model, ConvertError>
    /// The name mapping of a Mesh-TF T5 checkpoint (`nil` for any other checkpoint, and for a
    /// Mesh-TF one whose mapping failed: `t5` then holds why).
    public let meshTF: MeshTFLayout?
    /// The name mapping of a llama.cpp T5 GGUF file (`nil` for any other checkpoint, and for a
    /// GGUF whose mapping failed: `t5` then holds why).
    public let gguf: GGUFT5Layout?
    /// The identity (inode, size, mtime) of every file read, taken when they were opened: a
    /// conversion checks them again before committing its output (`sourceChange()`).
    public let fileIdentities: FileIdentities

    /// Opens `url` (file, index or directory) and analyses it.
    ///
    /// - Parameter checksums: when stored checksums are checked (see `ChecksumPolicy`).
    /// - Throws: the format reader's error, `ConvertError.invalidConfig` for an unreadable
    ///   `config.json`, or `.scaledFP8` for a scaled fp8 checkpoint.
    public init(opening url: URL, checksums: ChecksumPolicy = .verifyOnOpen) throws {
        let checkpoint = try Checkpoint.open(url, checksums: checksums)
        // Every command opens its checkpoints here: refusing scaled fp8 here refuses it everywhere.
        try ScaledFP8.refuse(checkpoint)
        let configURL = checkpoint.directory.appendingPathComponent("config.json")
        var configJSON: JSONValue?
        let hasConfig = FileManager.default.fileExists(atPath: configURL.path)
        // The index (sharded checkpoints) and config.json shape the output as much as the weights.
        var read = checkpoint.files.map(\.path)
        if (try? FileKind.of(checkpoint.location.path)) == .regularFile { read.append(checkpoint.location.path) }
        if hasConfig { read.append(configURL.path) }
        fileIdentities = try FileIdentities(Array(Set(read)).sorted())
        if hasConfig {
            let file = try MappedFile(path: configURL.path)
            do {
                configJSON = try file.withBytes(in: 0..<file.size) { bytes throws(JSONParseError) in
                    try JSONParser.parse(bytes)
                }
            } catch {
                throw ConvertError.invalidConfig(
                    path: configURL.path, reason: "not valid JSON at byte offset \(error.offset)")
            }
        }
        self.checkpoint = checkpoint
        self.configJSON = configJSON
        if MeshTFLayout.isMeshTF(checkpoint) {
            (meshTF, t5) = Self.analyzeMeshTF(checkpoint)
            gguf = nil
        } else if checkpoint.format == .gguf, let file = checkpoint.files.first {
            meshTF = nil
            (gguf, t5) = try Self.analyzeGGUF(checkpoint, at: file)
        } else {
            meshTF = nil
            gguf = nil
            t5 = Result { () throws(ConvertError) in
                try T5Model(checkpoint, config: configJSON, configPath: configURL.path)
            }
        }
    }

    /// Maps a Mesh-TF checkpoint's variables and reads the model they form, cross-checked against
    /// its `operative_config.gin`.
    private static func analyzeMeshTF(_ checkpoint: Checkpoint) -> (MeshTFLayout?, Result<T5Model, ConvertError>) {
        do throws(ConvertError) {
            let layout = try MeshTFLayout(checkpoint)
            let hasHead = layout.tensors.contains { $0.name == TiedEmbeddings.lmHead }
            let model = try T5Model(layout.architectureView(of: checkpoint), tiedHead: !hasHead)
            try layout.crossCheck(model.config)
            return (layout, .success(model))
        } catch {
            return (nil, .failure(error))
        }
    }

    /// Maps a GGUF file's tensors to transformers names and reads the model they form,
    /// cross-checked against its `t5.*` keys (a GGUF of another architecture is not T5).
    private static func analyzeGGUF(_ checkpoint: Checkpoint, at url: URL) throws -> (
        GGUFT5Layout?, Result<T5Model, ConvertError>
    ) {
        // The checkpoint keeps metadata as strings; the layout needs the typed values, parsed again
        // from the mapping the tensors already hold (the header is small next to the weights).
        let mapped = try checkpoint.tensors.first?.file ?? MappedFile(path: url.path)
        let file = try mapped.withBytes(in: 0..<mapped.size) { bytes throws(GGUFError) in
            try GGUFFile(parsing: bytes, path: url.path)
        }
        do throws(ConvertError) {
            let layout = try GGUFT5Layout(checkpoint, file: file)
            return (layout, .success(try layout.model(of: checkpoint)))
        } catch {
            return (nil, .failure(error))
        }
    }

    /// The tensors to convert under transformers' names and shapes, as the source's layout maps
    /// them: a Mesh-TF source's optimizer slots and step counter are left out (and reported), and
    /// its kernels transposed; a GGUF source's rescaled tied head is not a tensor of the model;
    /// tied copies of `shared.weight` are folded into it.
    var plannedInputs: [PlannedInput] {
        if let meshTF {
            return meshTF.tensors.map {
                PlannedInput(source: $0.source, name: $0.name, shape: $0.shape, transposed: $0.transposed)
            }
        }
        if let gguf {
            return gguf.tensors.map { PlannedInput(source: $0.source, name: $0.name, shape: $0.source.shape) }
        }
        let folded = (try? t5.get())?.aliases ?? []
        return checkpoint.tensors.filter { !folded.contains($0.name) }.map {
            PlannedInput(source: $0, name: $0.name, shape: $0.shape)
        }
    }

    /// The source's string metadata that outputs carry: none of a GGUF file's, whose key-values
    /// (hyper-parameters and tokenizer) other formats keep elsewhere.
    var carriedMetadata: [String: String] {
        checkpoint.format == .gguf ? [:] : checkpoint.metadata
    }

    /// The first file read whose inode, size or modification time is no longer what it was when
    /// the checkpoint was opened, and what changed; `nil` when none changed.
    public func sourceChange() -> (path: String, change: String)? {
        fileIdentities.firstChange()
    }

    /// The T5 model, `nil` for checkpoints that are not T5 at all.
    ///
    /// - Throws: the error of a checkpoint that looks like T5 but is broken (a missing tensor, a
    ///   wrong shape, a config that disagrees): such a file must not be converted silently.
    public func t5ModelIfAny() throws(ConvertError) -> T5Model? {
        switch t5 {
        case let .success(model): return model
        case .failure(.notT5): return nil
        case let .failure(error): throw error
        }
    }
}

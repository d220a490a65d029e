import Formats
import Foundation

/// A Mesh-TensorFlow T5 checkpoint read through the name table: every variable mapped to its
/// transformers tensor or skipped with a reason, and the `operative_config.gin` beside it.
public struct MeshTFLayout: Sendable {
    /// One variable and the transformers tensor it becomes.
    public struct MappedTensor: Sendable {
        public let source: TensorRef
        /// The transformers name.
        public let name: String
        /// Whether the matrix is transposed on the way (Mesh-TF `[in, out]`, transformers `[out, in]`).
        public let transposed: Bool

        /// The shape transformers gives it.
        public var shape: [Int] { transposed ? source.shape.reversed() : source.shape }
    }

    /// A variable that is not part of the model.
    public struct SkippedVariable: Sendable, Equatable {
        public let name: String
        public let reason: MeshTFSkipReason
    }

    public let tensors: [MappedTensor]
    public let skipped: [SkippedVariable]
    /// The `operative_config.gin` beside the checkpoint, read, if there is one.
    public let gin: MeshTFGinConfig?
    /// Where `gin` came from.
    public let ginURL: URL?

    /// The file holding a Mesh-TF model's hyper-parameters.
    public static let ginFileName = "operative_config.gin"

    /// Whether `checkpoint` is laid out as a Mesh-TF T5 (a TensorFlow bundle with `shared/embedding`).
    public static func isMeshTF(_ checkpoint: Checkpoint) -> Bool {
        checkpoint.format == .tensorflowBundle && checkpoint.tensor(named: "shared/embedding") != nil
    }

    /// Maps every variable of the Mesh-TF `checkpoint`.
    ///
    /// - Throws: `ConvertError.unsupportedVariant` for the shared-heads / shared key-value models
    ///   (from the gin file or the attention variables), `.unmappedTensor` for a variable the table
    ///   does not know (never dropped silently), `.notT5` for a kernel that is not a matrix,
    ///   `.invalidConfig` for an unreadable gin file.
    public init(_ checkpoint: Checkpoint) throws(ConvertError) {
        let path = checkpoint.location.path
        let ginURL = checkpoint.directory.appendingPathComponent(Self.ginFileName)
        let gin = FileManager.default.fileExists(atPath: ginURL.path) ? try Self.readGin(at: ginURL) : nil
        if let variant = gin?.unsupportedVariant {
            throw .unsupportedVariant(path: ginURL.path, variant: variant.rawValue, reason: variant.reason)
        }
        let shapes = Dictionary(checkpoint.tensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
        if let variant = UnsupportedT5Variant.detect(inTensorShapes: shapes) {
            throw .unsupportedVariant(path: path, variant: variant.rawValue, reason: variant.reason)
        }

        var tensors: [MappedTensor] = []
        var skipped: [SkippedVariable] = []
        for tensor in checkpoint.tensors {
            switch MeshTFNames.mapping(for: tensor.name) {
            case let .skipped(reason)?:
                skipped.append(SkippedVariable(name: tensor.name, reason: reason))
            case let .tensor(name, transposed)?:
                if transposed && tensor.shape.count != 2 {
                    throw .notT5(
                        path: path,
                        reason: "'\(tensor.name)' has shape \(tensor.shape), but a Mesh-TF kernel is a matrix")
                }
                tensors.append(MappedTensor(source: tensor, name: name, transposed: transposed))
            case nil:
                throw .unmappedTensor(path: path, tensor: tensor.name)
            }
        }
        self.tensors = tensors
        self.skipped = skipped
        self.gin = gin
        self.ginURL = gin == nil ? nil : ginURL
    }

    /// The mapped tensors under their transformers names and shapes, for reading the architecture.
    /// Names and shapes only: a transposed tensor's bytes are still in Mesh-TF order here (a
    /// conversion's `TensorRecipe` transposes them).
    func architectureView(of checkpoint: Checkpoint) -> Checkpoint {
        let views = tensors.compactMap { mapped -> TensorRef? in
            guard let spec = TensorSpec(name: mapped.name, dtype: mapped.source.dtype, shape: mapped.shape) else {
                return nil
            }
            return TensorRef(
                spec: spec, file: mapped.source.file, fileOffset: mapped.source.fileOffset,
                expectedChecksum: mapped.source.expectedChecksum)
        }
        return Checkpoint(
            format: checkpoint.format, location: checkpoint.location, directory: checkpoint.directory,
            files: checkpoint.files, tensors: views, metadata: checkpoint.metadata)
    }

    /// Checks what the gin file says against the architecture the tensors imply.
    ///
    /// - Throws: `ConvertError.ginMismatch` naming the gin file and the first field that disagrees.
    func crossCheck(_ config: T5Config) throws(ConvertError) {
        guard let gin, let ginURL else { return }
        try Self.crossCheck(gin, from: ginURL, against: config)
    }

    /// Reads the `operative_config.gin` at `url`.
    ///
    /// - Throws: `ConvertError.invalidConfig` for a file that is not UTF-8 or not gin.
    static func readGin(at url: URL) throws(ConvertError) -> MeshTFGinConfig {
        guard let data = FileManager.default.contents(atPath: url.path),
            let text = String(validating: data, as: UTF8.self)
        else { throw .invalidConfig(path: url.path, reason: "not readable UTF-8 text") }
        let bindings: GinBindings
        do {
            bindings = try GinBindings(parsing: text)
        } catch {
            throw .invalidConfig(path: url.path, reason: error.description)
        }
        return try MeshTFGinConfig(bindings, path: url.path)
    }

    /// Checks what the gin file at `ginURL` says against `config`.
    ///
    /// - Throws: `ConvertError.ginMismatch` naming the gin file and the first field that disagrees.
    static func crossCheck(_ gin: MeshTFGinConfig, from ginURL: URL, against config: T5Config) throws(ConvertError) {
        let fields: [(String, Int?, Int)] = [
            ("d_model", gin.dModel, config.dModel), ("d_ff", gin.dFF, config.dFF), ("d_kv", gin.dKV, config.dKV),
            ("num_heads", gin.numHeads, config.numHeads), ("encoder num_layers", gin.encoderLayers, config.numLayers),
            ("decoder num_layers", gin.decoderLayers, config.numDecoderLayers),
        ]
        for case let (field, fromGin?, fromTensors) in fields where fromGin != fromTensors {
            throw .ginMismatch(path: ginURL.path, field: field, gin: String(fromGin), tensors: String(fromTensors))
        }
        if let feedForward = gin.feedForward, feedForward != config.feedForward {
            throw .ginMismatch(
                path: ginURL.path, field: "activation", gin: feedForward.rawValue, tensors: config.feedForward.rawValue)
        }
    }
}

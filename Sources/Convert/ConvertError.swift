/// Why a conversion, or the T5 reading of a checkpoint, was refused.
public enum ConvertError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What of a request an output format refuses (the CLI names the flag of each).
    public enum OutputOption: Sendable, Equatable {
        case compression
        case sharding
        case dtype(String)
    }

    /// The tensors do not form a T5 model (no embedding, no attention layout, ...).
    case notT5(path: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case unexpectedTensor(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    /// `config.json` (at `path`) says one thing and the tensors another.
    case configMismatch(path: String, field: String, config: String, tensors: String)
    /// The configuration file at `path` (`config.json`, `operative_config.gin`) cannot be read;
    /// the message names that file, whichever kind it is.
    case invalidConfig(path: String, reason: String)
    /// A tensor that T5 ties to `shared.weight` holds different values.
    case tiedTensorDiffers(path: String, tensor: String, canonical: String, byteOffset: Int)
    case invalidShardSize(String)
    case unsupportedCast(tensor: String, from: String, to: String)
    /// The requested output format is one format and the destination's extension names another.
    case formatMismatch(destination: String, asked: String, named: String)
    /// A Mesh-TF variable the name table does not know: refused, never dropped.
    case unmappedTensor(path: String, tensor: String)
    /// A T5-Efficient variant transformers' T5 cannot represent (`sh`, `skv`, `shkv`).
    case unsupportedVariant(path: String, variant: String, reason: String)
    /// `operative_config.gin` says one thing and the tensors another.
    case ginMismatch(path: String, field: String, gin: String, tensors: String)
    /// An output format that cannot be written as asked (compressed, sharded, in a dtype).
    case unsupportedOutput(format: String, option: OutputOption, reason: String)
    /// A file of the source model directory that a directory output carries cannot be read.
    case unreadableCompanion(path: String, reason: String)
    /// A source file changed (inode, size or mtime) while it was being converted.
    case sourceChanged(path: String, change: String)
    /// A GGUF file's metadata key disagrees with its tensors.
    case metadataMismatch(path: String, key: String, declared: String, tensors: String)
    /// The output would overwrite or sit inside the input (a planning error: readers never see it).
    case outputOverlapsInput(output: String, input: String)
    /// A GGUF output needs a tokenizer and none was given or found.
    case missingTokenizer(directory: String)
    /// A "scaled fp8" checkpoint (per-weight scales or the `scaled_fp8` marker), which zoo cannot
    /// read correctly yet; `tensor` is the scale or marker found.
    case scaledFP8(path: String, tensor: String)

    public var description: String {
        switch self {
        case let .notT5(path, reason):
            "\(path): not a T5 checkpoint: \(reason)"
        case let .missingTensor(path, tensor):
            "\(path): tensor '\(tensor)' is missing"
        case let .unexpectedTensor(path, tensor):
            "\(path): tensor '\(tensor)' does not belong to a T5 model of the inferred shape"
        case let .shapeMismatch(path, tensor, expected, actual):
            "\(path): tensor '\(tensor)' has shape \(actual) but the model needs \(expected)"
        case let .configMismatch(path, field, config, tensors):
            "\(path) says \(field) = \(config) but the tensors say \(tensors)"
        case let .invalidConfig(path, reason):
            "\(path): invalid \(Self.fileName(path)): \(reason)"
        case let .tiedTensorDiffers(path, tensor, canonical, byteOffset):
            "\(path): tensor '\(tensor)' should equal '\(canonical)' (T5 ties them) but differs from byte offset "
                + "\(byteOffset) of the tensor"
        case let .invalidShardSize(text):
            "invalid shard size '\(text)': use a byte count or a number with KB, MB or GB (e.g. 500MB, 2GB)"
        case let .unsupportedCast(tensor, from, to):
            "tensor '\(tensor)': cannot cast \(from) to \(to)"
        case let .formatMismatch(destination, asked, named):
            "\(destination): the \(asked) format was asked, but the file name says \(named)"
        case let .unmappedTensor(path, tensor):
            "\(path): variable '\(tensor)' has no counterpart in transformers' T5 (not a known Mesh-TF T5 "
                + "name, optimizer slot or step counter); refusing rather than dropping it"
        case let .unsupportedVariant(path, variant, reason):
            "\(path): unsupported T5-Efficient variant '\(variant)': \(reason)"
        case let .unsupportedOutput(format, option, reason):
            switch option {
            case .compression: "\(format) outputs cannot be compressed: \(reason)"
            case .sharding: "\(format) outputs cannot be sharded: \(reason)"
            case let .dtype(dtype): "\(format) outputs cannot hold \(dtype): \(reason)"
            }
        case let .unreadableCompanion(path, reason):
            "\(path): cannot read this file of the model directory to carry it into the output: \(reason)"
        case let .sourceChanged(path, change):
            "\(path): the source changed while it was being converted (\(change)); nothing was written"
        case let .metadataMismatch(path, key, declared, tensors):
            "\(path): its metadata says \(key) = \(declared) but the tensors say \(tensors)"
        case let .outputOverlapsInput(output, input):
            "\(output): the output would overwrite the input \(input)"
        case let .missingTokenizer(directory):
            "\(directory) has no spiece.model, and llama.cpp reads a T5 model's vocabulary from its GGUF file: "
                + "give the model's SentencePiece tokenizer (T5-Efficient checkpoints use T5's own, the "
                + "spiece.model of google-t5/t5-base)"
        case let .scaledFP8(path, tensor):
            "\(path): tensor '\(tensor)' marks a scaled fp8 checkpoint (fp8 weights with per-weight scales); "
                + "zoo does not read scaled fp8 yet, and converting the fp8 values without their scales would "
                + "be wrong"
        case let .ginMismatch(path, field, gin, tensors):
            "\(path) says \(field) = \(gin) but the tensors say \(tensors)"
        }
    }

    /// The last component of `path`: what kind of file an error is about, as the user sees it.
    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

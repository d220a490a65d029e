import Convert
import Formats

/// The libraries' errors speak of formats, dtypes, tokenizers and outputs; on the command line
/// the same error also names the flag that asks for (or changes) what was refused.
enum CommandLineErrors {
    /// `error` in the command line's words, or `error` itself when no flag is involved.
    static func describe(_ error: any Error) -> any Error {
        guard let text = flagText(error) else { return error }
        return ValidationFailure(message: text)
    }

    private static func flagText(_ error: any Error) -> String? {
        switch error {
        case let ConvertError.formatMismatch(destination, asked, named):
            return "\(destination): --to \(asked) asked, but the file name says \(named)"
        case let ConvertError.unsupportedOutput(_, option, _):
            switch option {
            case .compression: return "--compress: \(error)"
            case .sharding: return "--shard-size: \(error)"
            case let .dtype(dtype):
                let value = TargetDType.allCases.first { $0.dtype.rawValue == dtype }?.rawValue ?? dtype.lowercased()
                return "--dtype \(value): \(error)" + (dtype == DType.q8_0.rawValue ? " (--to gguf)" : "")
            }
        case ConvertError.missingTokenizer:
            return "\(error); pass it with --tokenizer PATH"
        case let CheckpointError.outputExists(path):
            return "\(path): output exists and is not empty; pass --force to replace it"
        default:
            return nil
        }
    }
}

import Convert
import Formats
import Verify

/// Why a checkpoint name does not follow `t5-efficient-<base>[-<token>]*`.
public enum ModelNameError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    case malformed(name: String, reason: String)
    case unknownBase(name: String, base: String)
    case unknownToken(name: String, token: String)
    case duplicateToken(name: String, token: String)

    public var description: String {
        switch self {
        case let .malformed(name, reason): "'\(name)' is not a T5-Efficient name: \(reason)"
        case let .unknownBase(name, base):
            "'\(name)': '\(base)' is not a T5-Efficient size (tiny, mini, small, base, large, xl, xxl)"
        case let .unknownToken(name, token):
            "'\(name)': '\(token)' is not a variation (nl el dl dm ff kv nh followed by a number, or sh skv shkv)"
        case let .duplicateToken(name, token): "'\(name)': '\(token)' changes a field an earlier token already set"
        }
    }
}

/// A T5-Efficient checkpoint name, `t5-efficient-<base>[-<token>]*`, parsed.
///
/// Tokens (from the conversion scripts that named the checkpoints): `nlN` both stacks' layers,
/// `elN` encoder layers, `dlN` decoder layers, `dmN` d_model, `ffN` d_ff, `kvN` d_kv, `nhN` heads,
/// and `sh` / `skv` / `shkv` for the shared-heads and shared key-value variants. For `dm` and
/// `ff`, a number ending in `000` counts in thousands of 1024 (`dm1000` is 1024, `ff6000` 6144),
/// because the original folders said `d1k` and `f6k`.
public struct ModelName: Sendable, Equatable {
    public static let prefix = "t5-efficient-"
    public static let bases = ["tiny", "mini", "small", "base", "large", "xl", "xxl"]

    /// One variation token.
    public enum Token: Sendable, Equatable {
        case layers(Int)
        case encoderLayers(Int)
        case decoderLayers(Int)
        case modelDimension(Int)
        case feedForwardDimension(Int)
        case keyValueDimension(Int)
        case heads(Int)
        case sharedHeads
        case sharedKeyValue
        case sharedHeadsAndKeyValue
    }

    public let name: String
    public let base: String
    public let tokens: [Token]

    /// Parses `name`.
    ///
    /// - Throws: `ModelNameError` for a missing prefix, an unknown size or token, or a field set twice.
    public init(parsing name: String) throws(ModelNameError) {
        guard name.hasPrefix(Self.prefix) else {
            throw .malformed(name: name, reason: "names start with '\(Self.prefix)'")
        }
        let parts = name.dropFirst(Self.prefix.count).split(separator: "-", omittingEmptySubsequences: false).map(
            String.init)
        guard let base = parts.first, !base.isEmpty else {
            throw .malformed(name: name, reason: "no size after the prefix")
        }
        guard Self.bases.contains(base) else { throw .unknownBase(name: name, base: base) }
        var tokens: [Token] = []
        var fields = Set<String>()
        for text in parts.dropFirst() {
            let token = try Self.token(text, in: name)
            for field in Self.fields(of: token) where !fields.insert(field).inserted {
                throw .duplicateToken(name: name, token: text)
            }
            tokens.append(token)
        }
        self.name = name
        self.base = base
        self.tokens = tokens
    }

    /// The shared-parameter variant this name denotes, if any (`nil` for standard layouts).
    public var sharing: Token? {
        tokens.first { $0 == .sharedHeads || $0 == .sharedKeyValue || $0 == .sharedHeadsAndKeyValue }
    }

    /// The architecture the naming rule gives: the base's, with each token applied in order.
    public func architecture(base architecture: T5Config) -> T5Config {
        var config = architecture
        for token in tokens {
            switch token {
            case let .layers(count):
                config.numLayers = count
                config.numDecoderLayers = count
            case let .encoderLayers(count): config.numLayers = count
            case let .decoderLayers(count): config.numDecoderLayers = count
            case let .modelDimension(size): config.dModel = size
            case let .feedForwardDimension(size): config.dFF = size
            case let .keyValueDimension(size): config.dKV = size
            case let .heads(count): config.numHeads = count
            case .sharedHeads, .sharedKeyValue, .sharedHeadsAndKeyValue: break
            }
        }
        return config
    }

    private static func token(_ text: String, in name: String) throws(ModelNameError) -> Token {
        switch text {
        case "sh": return .sharedHeads
        case "skv": return .sharedKeyValue
        case "shkv": return .sharedHeadsAndKeyValue
        default: break
        }
        let letters = String(text.prefix { $0.isLetter })
        let digits = String(text.dropFirst(letters.count))
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int(digits), number > 0,
            !digits.hasPrefix("0")
        else {
            throw ["nl", "el", "dl", "dm", "ff", "kv", "nh"].contains(letters)
                ? .malformed(name: name, reason: "'\(text)' needs a positive number after '\(letters)'")
                : .unknownToken(name: name, token: text)
        }
        // `d1k` / `f6k` became `dm1000` / `ff6000`: thousands of 1024.
        let size = number % 1000 == 0 ? number / 1000 * 1024 : number
        switch letters {
        case "nl": return .layers(number)
        case "el": return .encoderLayers(number)
        case "dl": return .decoderLayers(number)
        case "dm": return .modelDimension(size)
        case "ff": return .feedForwardDimension(size)
        case "kv": return .keyValueDimension(number)
        case "nh": return .heads(number)
        default: throw .unknownToken(name: name, token: text)
        }
    }

    /// The config fields a token sets, to catch a name that sets one twice.
    private static func fields(of token: Token) -> [String] {
        switch token {
        case .layers: ["encoder layers", "decoder layers"]
        case .encoderLayers: ["encoder layers"]
        case .decoderLayers: ["decoder layers"]
        case .modelDimension: ["d_model"]
        case .feedForwardDimension: ["d_ff"]
        case .keyValueDimension: ["d_kv"]
        case .heads: ["heads"]
        case .sharedHeads, .sharedKeyValue, .sharedHeadsAndKeyValue: ["sharing"]
        }
    }
}

/// The T5-Efficient variants whose attention transformers' `T5Attention` cannot hold.
public enum UnsupportedT5Variant: String, Sendable, Equatable {
    /// `sh`: keys and values come from memory heads shared by all query heads (Mesh-TF
    /// `num_memory_heads`), so `k`/`v` are narrower than `q`.
    case sharedHeads = "sh"
    /// `skv`: one `kv` projection serves as both key and value (Mesh-TF `shared_kv = True`).
    case sharedKeyValue = "skv"
    /// `shkv`: both at once.
    case sharedHeadsAndKeyValue = "shkv"

    /// Why the variant is refused, for the error message.
    public var reason: String {
        switch self {
        case .sharedHeads:
            "the shared-heads (sh) variant computes keys and values with memory heads shared by all query heads; "
                + "transformers' T5Attention needs one key and one value projection per head ([heads * d_kv, d_model])"
        case .sharedKeyValue:
            "the shared key-value (skv) variant has a single 'kv' projection in place of 'k' and 'v'; "
                + "transformers' T5Attention has no such weight, and these checkpoints were never ported to it"
        case .sharedHeadsAndKeyValue:
            "the shared-heads, shared key-value (shkv) variant has one 'kv' projection shared by all query heads; "
                + "transformers' T5Attention needs separate per-head 'k' and 'v' projections"
        }
    }

    static func combining(sharedHeads: Bool, sharedKeyValue: Bool) -> UnsupportedT5Variant? {
        switch (sharedHeads, sharedKeyValue) {
        case (true, true): .sharedHeadsAndKeyValue
        case (true, false): .sharedHeads
        case (false, true): .sharedKeyValue
        case (false, false): nil
        }
    }

    /// The variant the attention variables show, if any: a `kv` variable (shared key-value), or
    /// `k`/`v` kernels narrower than `q` (shared heads). `shapes` maps Mesh-TF names to shapes.
    public static func detect(inTensorShapes shapes: [String: [Int]]) -> UnsupportedT5Variant? {
        var sharedKeyValue = false
        var sharedHeads = false
        for (name, shape) in shapes {
            guard let slash = name.lastIndex(of: "/") else { continue }
            let scope = String(name[..<slash])
            guard scope.hasSuffix("Attention") || scope.hasSuffix("attention") else { continue }
            let leaf = name[name.index(after: slash)...]
            let queryWidth = shapes[scope + "/q"]?.last
            switch leaf {
            case "kv":
                sharedKeyValue = true
                if let queryWidth, shape.last != queryWidth { sharedHeads = true }
            case "k", "v":
                if let queryWidth, shape.count == 2, shape.last != queryWidth { sharedHeads = true }
            default:
                continue
            }
        }
        return combining(sharedHeads: sharedHeads, sharedKeyValue: sharedKeyValue)
    }
}

/// What an `operative_config.gin` says about a T5 model: the hyper-parameters transformers'
/// `config.json` needs, each `nil` where the file does not bind it.
public struct MeshTFGinConfig: Sendable, Equatable {
    public var dModel: Int?
    public var dFF: Int?
    public var dKV: Int?
    public var numHeads: Int?
    public var encoderLayers: Int?
    public var decoderLayers: Int?
    public var feedForward: T5Config.FeedForward?
    /// Set when the attention settings name a variant transformers cannot represent.
    public var unsupportedVariant: UnsupportedT5Variant?

    public init() {}

    /// Reads the T5 settings from `gin`, preferring the encoder's scoped binding, then the
    /// unscoped one, then the macro T5's gin files define (`d_model`, `num_heads`, ...).
    ///
    /// - Throws: `ConvertError.invalidConfig` for a setting that is bound to something that is not
    ///   a number, or an activation transformers' T5 does not have.
    public init(_ gin: GinBindings, path: String) throws(ConvertError) {
        func integer(_ names: [String]) throws(ConvertError) -> Int? {
            guard let (name, value) = gin.firstValue(names) else { return nil }
            guard let number = GinBindings.integer(value), number > 0 else {
                throw .invalidConfig(path: path, reason: "\(name) = \(value) is not a positive integer")
            }
            let largest = name.hasSuffix("num_layers") ? T5Config.largestLayerCount : T5Config.largestDimension
            guard number <= largest else {
                throw .invalidConfig(path: path, reason: "\(name) = \(value) is more than the \(largest) zoo accepts")
            }
            return number
        }
        dModel = try integer(["encoder/Unitransformer.d_model", "Unitransformer.d_model", "d_model"])
        dFF = try integer(["encoder/DenseReluDense.hidden_size", "DenseReluDense.hidden_size", "d_ff"])
        dKV = try integer(["encoder/SelfAttention.key_value_size", "SelfAttention.key_value_size", "d_kv"])
        numHeads = try integer(["encoder/SelfAttention.num_heads", "SelfAttention.num_heads", "num_heads"])
        encoderLayers = try integer([
            "encoder/make_layer_stack.num_layers", "make_layer_stack.num_layers", "num_layers",
        ])
        decoderLayers = try integer([
            "decoder/make_layer_stack.num_layers", "make_layer_stack.num_layers", "num_layers",
        ])

        if let (name, value) = gin.firstValue(["encoder/DenseReluDense.activation", "DenseReluDense.activation"]) {
            // T5 v1.0 uses 'relu'; T5 v1.1 a gated GELU, written as the pair ['gelu', 'linear'].
            if GinBindings.string(value) == "relu" {
                feedForward = .relu
            } else if let pair = GinBindings.stringList(value), pair == ["gelu", "linear"] {
                feedForward = .gatedGelu
            } else {
                throw .invalidConfig(
                    path: path, reason: "\(name) = \(value): transformers' T5 has only 'relu' and ['gelu', 'linear']")
            }
        }

        var sharedKeyValue = false
        var sharedHeads = false
        for name in gin.bindings.keys.sorted() {
            guard let value = gin.value(for: name) else { continue }
            if name.hasSuffix(".shared_kv"), GinBindings.boolean(value) == true { sharedKeyValue = true }
            if name.hasSuffix(".num_memory_heads"), let heads = GinBindings.integer(value), heads > 0 {
                sharedHeads = true
            }
        }
        unsupportedVariant = UnsupportedT5Variant.combining(sharedHeads: sharedHeads, sharedKeyValue: sharedKeyValue)
    }
}

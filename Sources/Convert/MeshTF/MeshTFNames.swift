/// What becomes of one Mesh-TensorFlow variable in the Hugging Face layout.
public enum MeshTFMapping: Equatable, Sendable {
    /// Becomes the transformers tensor `name`. `transposed` when Mesh-TF stores the matrix the
    /// other way round: Mesh-TF kernels are `[in, out]`, `torch.nn.Linear` weights `[out, in]`,
    /// and the relative attention bias is `[heads, buckets]` against transformers' `[buckets, heads]`.
    case tensor(name: String, transposed: Bool)
    /// Not part of the model; reported, never silently dropped.
    case skipped(MeshTFSkipReason)
}

/// Why a Mesh-TF variable has no transformers counterpart.
public enum MeshTFSkipReason: String, Sendable, CaseIterable {
    case adafactorSlot = "Adafactor optimizer slot"
    case adamState = "Adam optimizer state"
    case globalStep = "training step counter"
}

/// The Mesh-TF <-> transformers name table for T5 (`Documentation/TensorFlow.md`, "The name table").
///
/// Mesh-TF names look like `encoder/block_003/layer_001/DenseReluDense/wi/kernel`; the newer
/// spellings transformers' own loader accepts (`rms_norm` for `layer_norm`, and the layer aliases
/// `self_attention`, `enc_dec_attention`, `dense_relu_dense` for `layer_NNN`) are accepted too.
/// Names are written back in the original spelling, as the T5-Efficient checkpoints use it.
public enum MeshTFNames {
    /// The mapping of `name`, or `nil` when it is not a T5 variable at all (the caller's error).
    public static func mapping(for name: String) -> MeshTFMapping? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.contains("global_step") { return .skipped(.globalStep) }
        if parts.contains(where: { ["adam_m", "adam_v"].contains($0) }) { return .skipped(.adamState) }
        // Adafactor keeps `<variable>_slot_vr`/`_slot_vc` (factored) or `_slot_v`, and `_slot_m`
        // with momentum; transformers' loader skips every `_slot_` leaf, and so does zoo.
        if let leaf = parts.last, leaf.contains("_slot_") { return .skipped(.adafactorSlot) }

        switch parts {
        case ["shared", "embedding"]:
            return .tensor(name: "shared.weight", transposed: false)
        case ["decoder", "logits", "kernel"]:
            return .tensor(name: "lm_head.weight", transposed: true)
        default:
            break
        }
        guard let stack = Stack(rawValue: parts[0]), parts.count >= 3 else { return nil }
        if parts.count == 3, ["final_layer_norm", "rms_norm"].contains(parts[1]), parts[2] == "scale" {
            return .tensor(name: "\(stack.rawValue).final_layer_norm.weight", transposed: false)
        }
        guard let block = number(parts[1], prefix: "block_"), parts.count >= 4,
            let layer = stack.layerIndex(parts[2])
        else { return nil }
        let prefix = "\(stack.rawValue).block.\(block).layer.\(layer.index)"
        var rest = Array(parts[3...])

        if rest == ["layer_norm", "scale"] || rest == ["rms_norm", "scale"] {
            return .tensor(name: "\(prefix).layer_norm.weight", transposed: false)
        }
        guard let module = stack.module(atLayer: layer.index) else { return nil }
        // An alias such as `self_attention` already names the module; `layer_NNN` needs it spelled.
        if rest.first == module.rawValue {
            rest.removeFirst()
        } else if !layer.isAlias {
            return nil
        }
        if module == .feedForward {
            guard rest.count == 2, rest[1] == "kernel", feedForwardProjections.contains(rest[0]) else { return nil }
            return .tensor(name: "\(prefix).\(module.rawValue).\(rest[0]).weight", transposed: true)
        }
        guard rest.count == 1 else { return nil }
        let leaf = rest[0]
        let isBias = leaf == "relative_attention_bias" && module == .selfAttention && block == 0
        guard isBias || attentionProjections.contains(leaf) else { return nil }
        return .tensor(name: "\(prefix).\(module.rawValue).\(leaf).weight", transposed: true)
    }

    /// The Mesh-TF name of the transformers tensor `name` and whether its matrix is transposed on
    /// the way, or `nil` for names outside the table (the embedding's tied copies among them: a
    /// Mesh-TF checkpoint stores `shared/embedding` once).
    public static func meshTFName(forHF name: String) -> (name: String, transposed: Bool)? {
        switch name {
        case "shared.weight": return ("shared/embedding", false)
        case "lm_head.weight": return ("decoder/logits/kernel", true)
        default: break
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let stack = Stack(rawValue: parts[0]), parts.last == "weight" else { return nil }
        if parts == [stack.rawValue, "final_layer_norm", "weight"] {
            return ("\(stack.rawValue)/final_layer_norm/scale", false)
        }
        guard parts.count >= 6, parts[1] == "block", let block = Int(parts[2]), block >= 0, String(block) == parts[2],
            parts[3] == "layer", let layer = Int(parts[4]), String(layer) == parts[4]
        else { return nil }
        let prefix = "\(stack.rawValue)/\(blockName(block))/\(layerName(layer))"
        let rest = Array(parts[5..<(parts.count - 1)])
        if rest == ["layer_norm"], stack.layerCount > layer { return ("\(prefix)/layer_norm/scale", false) }
        guard let module = stack.module(atLayer: layer), rest.first == module.rawValue, rest.count == 2 else {
            return nil
        }
        let leaf = rest[1]
        switch module {
        case .feedForward where feedForwardProjections.contains(leaf):
            return ("\(prefix)/\(module.rawValue)/\(leaf)/kernel", true)
        case .selfAttention where leaf == "relative_attention_bias" && block == 0,
            .selfAttention where attentionProjections.contains(leaf),
            .crossAttention where attentionProjections.contains(leaf):
            return ("\(prefix)/\(module.rawValue)/\(leaf)", true)
        default:
            return nil
        }
    }

    /// `block_000`: Mesh-TF pads block and layer numbers to three digits.
    static func blockName(_ index: Int) -> String { "block_" + padded(index) }
    static func layerName(_ index: Int) -> String { "layer_" + padded(index) }

    private static let attentionProjections: Set<String> = ["q", "k", "v", "o"]
    private static let feedForwardProjections: Set<String> = ["wi", "wo", "wi_0", "wi_1"]

    private static func padded(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// The number in `block_007`-style parts: digits only, and small enough to be a layer index.
    static func number(_ part: String, prefix: String) -> Int? {
        guard part.hasPrefix(prefix) else { return nil }
        let digits = part.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            return nil
        }
        return Int(digits)
    }

    /// The two stacks, and which module sits at which layer of a block.
    enum Stack: String {
        case encoder
        case decoder

        /// Sub-layers per block: self-attention and feed-forward, plus cross-attention in the decoder.
        var layerCount: Int { self == .encoder ? 2 : 3 }

        func module(atLayer layer: Int) -> Module? {
            switch (self, layer) {
            case (_, 0): .selfAttention
            case (.decoder, 1): .crossAttention
            case (.encoder, 1), (.decoder, 2): .feedForward
            default: nil
            }
        }

        /// The layer a `layer_NNN` part or a module alias names.
        func layerIndex(_ part: String) -> (index: Int, isAlias: Bool)? {
            if let index = MeshTFNames.number(part, prefix: "layer_") {
                return index < layerCount ? (index, false) : nil
            }
            switch part {
            case "self_attention": return (0, true)
            case "enc_dec_attention": return self == .decoder ? (1, true) : nil
            case "dense_relu_dense": return (layerCount - 1, true)
            default: return nil
            }
        }
    }

    /// Module names, spelled the same in both layouts.
    enum Module: String {
        case selfAttention = "SelfAttention"
        case crossAttention = "EncDecAttention"
        case feedForward = "DenseReluDense"
    }
}

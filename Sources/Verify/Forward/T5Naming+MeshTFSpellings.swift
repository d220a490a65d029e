/// The newer spellings of Mesh-TF T5 variables, which the reader accepts as well as the original
/// ones: `rms_norm` for `layer_norm` and `final_layer_norm`, and a block's sub-layers named by
/// what they hold (`self_attention`, `enc_dec_attention`, `dense_relu_dense`) in place of
/// `layer_NNN`, with the module name (`SelfAttention`, ...) after them optional.
///
/// Written from that description, not from the conversion's table (`MeshTFNames`): a spelling
/// the table gets wrong then shows up as a missing or differing tensor.
extension T5Naming {
    /// Where a Mesh-TF checkpoint keeps `parameter`: the first spelling of it the checkpoint holds
    /// (`has`), else the original spelling (which a missing tensor is reported under).
    static func meshTFLocation(_ parameter: T5Parameter, has: (String) -> Bool) -> (String, Bool) {
        let original = meshTFLocation(parameter)
        guard !has(original.0) else { return original }
        let found = meshTFSpellings(of: original.0).first(where: has)
        return (found ?? original.0, original.1)
    }

    /// Every other spelling of the original-spelling Mesh-TF `name`.
    static func meshTFSpellings(of name: String) -> [String] {
        let parts = name.split(separator: "/").map(String.init)
        // `encoder/final_layer_norm/scale`.
        if parts.count == 3, parts[1] == "final_layer_norm" { return ["\(parts[0])/rms_norm/scale"] }
        // `<stack>/block_NNN/layer_NNN/<module or layer_norm>/...`.
        guard parts.count >= 5, let alias = sublayerAlias(stack: parts[0], layer: parts[2]) else { return [] }
        let head = "\(parts[0])/\(parts[1])"
        var rests = [Array(parts[3...])]
        if rests[0] == ["layer_norm", "scale"] { rests.append(["rms_norm", "scale"]) }
        var names: [String] = []
        for rest in rests {
            names.append(([head, parts[2]] + rest).joined(separator: "/"))
            names.append(([head, alias] + rest).joined(separator: "/"))
            // After an alias the module name may be left out: `self_attention/q`.
            if ["SelfAttention", "EncDecAttention", "DenseReluDense"].contains(rest[0]) {
                names.append(([head, alias] + rest.dropFirst()).joined(separator: "/"))
            }
        }
        return names.filter { $0 != name }
    }

    /// The alias of sub-layer `layer` (`layer_000`) in `stack`: self-attention first, the
    /// decoder's cross-attention second, the feed-forward block last.
    private static func sublayerAlias(stack: String, layer: String) -> String? {
        switch (stack, layer) {
        case (_, "layer_000"): "self_attention"
        case ("decoder", "layer_001"): "enc_dec_attention"
        case ("encoder", "layer_001"), ("decoder", "layer_002"): "dense_relu_dense"
        default: nil
        }
    }
}

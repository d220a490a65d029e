import Foundation

/// A T5 checkpoint of any size under transformers' names, for tests that need a model whose
/// forward pass takes a while: a sparse fp32 safetensors file (every weight zero, so it costs no
/// disk), which zoo reads, infers and runs like any other.
public enum SyntheticT5 {
    /// Writes `model.safetensors` into `directory`.
    public static func write(
        into directory: URL, dModel: Int = 512, dFF: Int = 2048, heads: Int = 8, layers: Int = 6, vocab: Int = 4096
    ) throws {
        var tensors: [(String, [Int])] = [("shared.weight", [vocab, dModel])]
        func attention(_ prefix: String) {
            for matrix in ["q", "k", "v", "o"] { tensors.append(("\(prefix).\(matrix).weight", [dModel, dModel])) }
        }
        for stack in ["encoder", "decoder"] {
            for block in 0..<layers {
                let layer = "\(stack).block.\(block).layer"
                attention("\(layer).0.SelfAttention")
                if block == 0 {
                    tensors.append(("\(layer).0.SelfAttention.relative_attention_bias.weight", [32, heads]))
                }
                tensors.append(("\(layer).0.layer_norm.weight", [dModel]))
                var feedForward = 1
                if stack == "decoder" {
                    attention("\(layer).1.EncDecAttention")
                    tensors.append(("\(layer).1.layer_norm.weight", [dModel]))
                    feedForward = 2
                }
                tensors.append(("\(layer).\(feedForward).DenseReluDense.wi.weight", [dFF, dModel]))
                tensors.append(("\(layer).\(feedForward).DenseReluDense.wo.weight", [dModel, dFF]))
                tensors.append(("\(layer).\(feedForward).layer_norm.weight", [dModel]))
            }
            tensors.append(("\(stack).final_layer_norm.weight", [dModel]))
        }
        var entries: [String] = []
        var offset = 0
        for (name, shape) in tensors {
            let end = offset + shape.reduce(4, *)
            let dimensions = shape.map(String.init).joined(separator: ",")
            entries.append(#""\#(name)":{"dtype":"F32","shape":[\#(dimensions)],"data_offsets":[\#(offset),\#(end)]}"#)
            offset = end
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var length = UInt64(header.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(contentsOf: header)
        let url = directory.appendingPathComponent("model.safetensors")
        try file.write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(file.count + offset))
        try handle.close()
    }
}

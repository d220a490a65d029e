import Formats

/// ComfyUI's "scaled fp8" checkpoints: fp8 weights each stored with a scale to multiply them by
/// (`<name>.scale_weight`, or `weight_scale`, `scale_input`, `input_scale` in other writers), and
/// a `scaled_fp8` marker tensor. zoo does not apply those scales yet, and converting the raw fp8
/// values alone passed verification while every weight was wrong: such a checkpoint is refused,
/// by every command, until it is read properly.
enum ScaledFP8 {
    /// The last name components of the per-weight scale tensors.
    static let scaleNames: Set<String> = ["scale_weight", "weight_scale", "scale_input", "input_scale"]
    /// The tensor ComfyUI adds to mark a scaled fp8 checkpoint.
    static let marker = "scaled_fp8"

    /// Throws for the first (by name) scale or marker tensor of `checkpoint`.
    ///
    /// - Throws: `ConvertError.scaledFP8` naming the file holding it and the tensor.
    static func refuse(_ checkpoint: Checkpoint) throws(ConvertError) {
        let flagged = checkpoint.tensors.filter { isScaleOrMarker($0.name) }
        guard let first = flagged.min(by: { $0.name < $1.name }) else { return }
        // A sharded checkpoint is named by the shard that holds the tensor; a single file by the
        // name the user gave.
        let path = checkpoint.files.count > 1 ? first.file.path : checkpoint.location.path
        throw .scaledFP8(path: path, tensor: first.name)
    }

    /// Whether `name` (dotted or Mesh-TF's slashed) ends in a per-weight scale or is the marker.
    static func isScaleOrMarker(_ name: String) -> Bool {
        guard let leaf = name.split(whereSeparator: { $0 == "." || $0 == "/" }).last.map(String.init) else {
            return false
        }
        return leaf == marker || scaleNames.contains(leaf)
    }
}

/// The one list of the formats `zoo convert` writes, one line each: a new format adds its folder
/// (its `OutputScheme`) and a line here.
enum RegisteredFormats {
    static let outputs: [any OutputScheme.Type] = [
        SafetensorsScheme.self,
        PyTorchScheme.self,
        MeshTFScheme.self,
        GGUFScheme.self,
    ]

    /// Written when neither `--to` nor the destination's extension names a format.
    static let defaultOutput: any OutputScheme.Type = SafetensorsScheme.self
}

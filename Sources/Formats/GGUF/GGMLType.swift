/// ggml's tensor type numbers (`enum ggml_type`), as `GGUF` tensor infos store them.
///
/// zoo reads and writes four of them; the others are named so that a refusal can say which type
/// a file holds ("Q4_K"), not only its number.
public enum GGMLType {
    /// Every type number gguf-py 0.19 knows (`GGMLQuantizationType`) and its name. Gaps (4, 5,
    /// 31-33, 36-38) are types ggml has removed.
    public static let names: [UInt32: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
        11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
        19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
        27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4",
        41: "Q1_0",
    ]

    /// The zoo dtype of a type number zoo reads, or `nil`.
    public static func dtype(of type: UInt32) -> DType? {
        switch type {
        case 0: .f32
        case 1: .f16
        case 8: .q8_0
        case 30: .bf16
        default: nil
        }
    }

    /// The type number of a dtype zoo writes to GGUF, or `nil` for the others.
    public static func type(of dtype: DType) -> UInt32? {
        switch dtype {
        case .f32: 0
        case .f16: 1
        case .q8_0: 8
        case .bf16: 30
        default: nil
        }
    }

    /// The dtypes zoo writes to GGUF.
    public static let writableDTypes: [DType] = [.f32, .f16, .bf16, .q8_0]

    /// At most this many dimensions (`GGML_MAX_DIMS`).
    public static let maxDimensions = 4
}

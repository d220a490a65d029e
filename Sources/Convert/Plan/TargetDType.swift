import Formats

/// The dtypes a user can ask `zoo convert --dtype` for.
public enum TargetDType: String, CaseIterable, Sendable {
    case fp32
    case fp16
    case bf16
    case fp64
    /// GGUF's 8-bit block quantization (GGUF outputs only); `--dtype q8_0`, as ggml names it.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case q8_0

    public var dtype: DType {
        switch self {
        case .fp32: .f32
        case .fp16: .f16
        case .bf16: .bf16
        case .fp64: .f64
        case .q8_0: .q8_0
        }
    }
}

extension DType {
    /// The `torch_dtype` name transformers writes in `config.json`.
    public var torchName: String {
        switch self {
        case .f64: "float64"
        case .f32: "float32"
        case .f16: "float16"
        case .bf16: "bfloat16"
        case .i64: "int64"
        case .i32: "int32"
        case .i16: "int16"
        case .i8: "int8"
        case .u8: "uint8"
        case .bool: "bool"
        case .u16: "uint16"
        case .u32: "uint32"
        case .u64: "uint64"
        case .f8e4m3: "float8_e4m3fn"
        case .f8e5m2: "float8_e5m2"
        // torch has no Q8_0; transformers loads GGUF Q8_0 weights dequantized to float32.
        case .q8_0: "float32"
        }
    }
}

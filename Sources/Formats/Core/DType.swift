/// The element type of a tensor, named as safetensors names it.
///
/// Every dtype a safetensors header may carry is listed, so a reader never has to reject a valid
/// file; which ones can be cast is decided elsewhere (`Convert`).
public enum DType: String, CaseIterable, Sendable, Hashable, Codable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"
    case u16 = "U16"
    case u32 = "U32"
    case u64 = "U64"
    case f8e4m3 = "F8_E4M3"
    case f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: 1
        }
    }

    /// The safetensors spelling (`"F32"`, `"BF16"`, ...).
    public var safetensorsName: String { rawValue }

    /// Whether values are floating point (the 8-bit float formats included).
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16, .f8e4m3, .f8e5m2: true
        default: false
        }
    }
}

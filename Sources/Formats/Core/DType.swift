/// The element type of a tensor, named as safetensors names it.
///
/// Every dtype a safetensors header may carry is listed, so a reader never has to reject a valid
/// file; which ones can be cast is decided elsewhere (`Convert`). One dtype is not a safetensors
/// dtype: `q8_0`, GGUF's block-quantized 8-bit format, which only the GGUF reader and writer
/// produce and consume.
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
    /// ggml's Q8_0: blocks of 32 values along the innermost dimension, each a little-endian fp16
    /// scale `d` then 32 `int8` `q`, standing for `q * d` (see `Q8_0`). Named as ggml names it.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case q8_0 = "Q8_0"

    /// Bytes per element, for element-wise dtypes.
    ///
    /// A block-quantized dtype has no whole number of bytes per element; for it this is the size
    /// of a block (34 for Q8_0), so that element-wise arithmetic done on it by mistake runs off
    /// the tensor's bytes (and is refused) rather than reading them wrongly. Code that works
    /// element by element must check `isBlockQuantized` first; sizes come from `TensorSpec`.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: 1
        case .q8_0: 34
        }
    }

    /// Elements stored together in one block: 32 for Q8_0, 1 for every element-wise dtype.
    public var elementsPerBlock: Int { self == .q8_0 ? 32 : 1 }

    /// Bytes of one block: 34 for Q8_0 (an fp16 scale and 32 `int8`), `byteSize` for the others.
    public var bytesPerBlock: Int { byteSize }

    /// Whether elements are stored in blocks that share data (a scale), so no element can be read,
    /// cast or transposed on its own.
    public var isBlockQuantized: Bool { elementsPerBlock > 1 }

    /// The dtype a safetensors header names `name`, or `nil`: the safetensors dtypes are all
    /// but the block-quantized ones, so `"Q8_0"` is unknown there like any other string.
    public init?(safetensorsName name: String) {
        guard let dtype = DType(rawValue: name), !dtype.isBlockQuantized else { return nil }
        self = dtype
    }

    /// The safetensors spelling (`"F32"`, `"BF16"`, ...).
    public var safetensorsName: String { rawValue }

    /// Whether values are floating point (the 8-bit float formats included).
    ///
    /// Q8_0 counts as floating point: it encodes real numbers (a float scale times an integer) and
    /// dequantizes to F32. Casts never treat it element-wise: `FloatCast` lists the dtypes it
    /// converts explicitly, and Q8_0 is not among them.
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16, .f8e4m3, .f8e5m2, .q8_0: true
        default: false
        }
    }
}

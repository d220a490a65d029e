/// A value built by the pickle interpreter. Only what a state dict can contain exists here: there
/// is no case for an arbitrary object, so nothing outside this list can ever be built.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// One of the allowlisted callables or classes.
    case global(TorchGlobal)
    /// A storage named by a persistent id.
    case storage(TorchStorageRef)
    /// The result of `_rebuild_tensor_v2` or `_rebuild_parameter`.
    case tensor(TorchTensorDescriptor)

    /// A short description for error messages and skipped-value reports.
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let global): global.qualifiedName
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

/// A list built by the pickle; a class because APPEND mutates the list in the memo too.
final class PickleList {
    var items: [PickleValue] = []
}

/// A dict built by the pickle, keys kept in insertion order; a class for the same reason.
final class PickleDict {
    var entries: [(key: PickleValue, value: PickleValue)] = []
}

/// The only globals a state dict needs. Anything else is refused when the pickle names it.
enum TorchGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    /// `_rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])`:
    /// how torch 2.x saves the dtypes that have no typed storage class (uint16/32/64, float8).
    case rebuildTensorV3
    case rebuildParameter
    case storageType(DType)
    /// `torch.storage.UntypedStorage`: bytes whose dtype the rebuild call gives.
    case untypedStorage
    /// A dtype object (`torch.uint16`), the last argument of `_rebuild_tensor_v3`.
    case dtype(DType)

    /// Looks up `module.name` in the allowlist.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): self = .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch.storage", "UntypedStorage"), ("torch", "UntypedStorage"): self = .untypedStorage
        case ("torch", _):
            if let dtype = Self.storageTypes[name] {
                self = .storageType(dtype)
            } else if let dtype = Self.dtypeNames[name] {
                self = .dtype(dtype)
            } else {
                return nil
            }
        default: return nil
        }
    }

    /// torch's typed storage classes and the dtype of their elements.
    static let storageTypes: [String: DType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8, "ByteStorage": .u8,
        "BoolStorage": .bool,
    ]

    /// torch's dtype objects, by the name `torch.<name>` pickles as.
    static let dtypeNames: [String: DType] = [
        "float32": .f32, "float16": .f16, "bfloat16": .bf16, "float64": .f64, "int64": .i64, "int32": .i32,
        "int16": .i16, "int8": .i8, "uint8": .u8, "bool": .bool, "uint16": .u16, "uint32": .u32, "uint64": .u64,
        "float8_e4m3fn": .f8e4m3, "float8_e5m2": .f8e5m2,
    ]

    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .untypedStorage: "torch.storage.UntypedStorage"
        case let .storageType(dtype):
            "torch." + (Self.storageTypes.first { $0.value == dtype }?.key ?? "Storage")
        case let .dtype(dtype):
            "torch." + (Self.dtypeNames.first { $0.value == dtype }?.key ?? "dtype")
        }
    }
}

/// A storage as a persistent id names it: `('storage', torch.FloatStorage, key, location, numel)`.
struct TorchStorageRef {
    let key: String
    /// The element type; for an untyped storage `.u8` (its elements are bytes) until a
    /// `_rebuild_tensor_v3` call gives the dtype (`typed(as:)`).
    let dtype: DType
    /// Whether the persistent id named `UntypedStorage` (whose count is in bytes).
    let isUntyped: Bool
    /// Elements of the whole stored storage, as declared.
    let elementCount: Int
    /// The part of it this reference sees: legacy files can name a view `(root, offset, size)`.
    let viewOffset: Int
    let viewCount: Int

    init(
        key: String, dtype: DType, elementCount: Int, viewOffset: Int = 0, viewCount: Int? = nil,
        isUntyped: Bool = false
    ) {
        self.key = key
        self.dtype = dtype
        self.isUntyped = isUntyped
        self.elementCount = elementCount
        self.viewOffset = viewOffset
        self.viewCount = viewCount ?? elementCount
    }
}

extension TorchStorageRef {
    /// This untyped storage seen as elements of `dtype`, or `nil` if its byte count is not a
    /// whole number of them.
    func typed(as dtype: DType) -> TorchStorageRef? {
        guard elementCount % dtype.byteSize == 0, viewOffset == 0 else { return nil }
        return TorchStorageRef(key: key, dtype: dtype, elementCount: elementCount / dtype.byteSize)
    }
}

/// A tensor as `_rebuild_tensor_v2(storage, offset, size, stride, ...)` describes it.
struct TorchTensorDescriptor {
    let storage: TorchStorageRef
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]
}

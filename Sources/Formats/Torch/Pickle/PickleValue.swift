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
    case rebuildParameter
    case storageType(DType)

    /// Looks up `module.name` in the allowlist.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", _):
            guard let dtype = Self.storageTypes[name] else { return nil }
            self = .storageType(dtype)
        default: return nil
        }
    }

    /// torch's typed storage classes and the dtype of their elements.
    static let storageTypes: [String: DType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8, "ByteStorage": .u8,
        "BoolStorage": .bool,
    ]

    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case let .storageType(dtype):
            "torch." + (Self.storageTypes.first { $0.value == dtype }?.key ?? "Storage")
        }
    }
}

/// A storage as a persistent id names it: `('storage', torch.FloatStorage, key, location, numel)`.
struct TorchStorageRef {
    let key: String
    let dtype: DType
    /// Elements of the whole stored storage, as declared.
    let elementCount: Int
    /// The part of it this reference sees: legacy files can name a view `(root, offset, size)`.
    let viewOffset: Int
    let viewCount: Int

    init(key: String, dtype: DType, elementCount: Int, viewOffset: Int = 0, viewCount: Int? = nil) {
        self.key = key
        self.dtype = dtype
        self.elementCount = elementCount
        self.viewOffset = viewOffset
        self.viewCount = viewCount ?? elementCount
    }
}

/// A tensor as `_rebuild_tensor_v2(storage, offset, size, stride, ...)` describes it.
struct TorchTensorDescriptor {
    let storage: TorchStorageRef
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]
}

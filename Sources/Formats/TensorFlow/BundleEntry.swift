/// One tensor's entry in a TensorFlow checkpoint index (`BundleEntryProto`): where its bytes are
/// and what they are.
public struct BundleEntry: Sendable, Equatable {
    /// TensorFlow's `DataType` number (`DT_FLOAT` 1, `DT_BFLOAT16` 14, ...).
    public var dataType: Int32
    public var shape: [Int64]
    public var shardID: Int32
    public var offset: Int64
    public var size: Int64
    /// The masked CRC-32C of the tensor's bytes.
    public var maskedCRC32C: UInt32
    /// Partitions of a sliced variable (empty for whole tensors).
    public var sliceCount: Int

    public init(
        dataType: Int32, shape: [Int64], shardID: Int32, offset: Int64, size: Int64, maskedCRC32C: UInt32,
        sliceCount: Int = 0
    ) {
        self.dataType = dataType
        self.shape = shape
        self.shardID = shardID
        self.offset = offset
        self.size = size
        self.maskedCRC32C = maskedCRC32C
        self.sliceCount = sliceCount
    }

    /// The zoo dtype of a TensorFlow `DataType`, for the types T5 checkpoints use.
    public var dtype: DType? {
        switch dataType {
        case 1: .f32
        case 2: .f64
        case 3: .i32
        case 4: .u8
        case 5: .i16
        case 6: .i8
        case 9: .i64
        case 10: .bool
        case 14: .bf16
        case 17: .u16
        case 19: .f16
        case 22: .u32
        case 23: .u64
        case 24: .f8e5m2
        case 25: .f8e4m3
        default: nil
        }
    }

    /// The TensorFlow `DataType` number of a zoo dtype: TensorFlow has one for each element-wise
    /// dtype, none for the block-quantized Q8_0.
    public static func dataType(of dtype: DType) -> Int32? {
        switch dtype {
        case .f32: 1
        case .f64: 2
        case .i32: 3
        case .u8: 4
        case .i16: 5
        case .i8: 6
        case .i64: 9
        case .bool: 10
        case .bf16: 14
        case .u16: 17
        case .f16: 19
        case .u32: 22
        case .u64: 23
        case .f8e5m2: 24
        case .f8e4m3: 25
        case .q8_0: nil
        }
    }
}

/// The index's header entry (`BundleHeaderProto`, under the empty key).
public struct BundleHeader: Sendable, Equatable {
    public var shardCount: Int32
    /// 0 little-endian, 1 big-endian.
    public var endianness: Int32
    public var producerVersion: Int32
    /// The oldest reader version that can read the bundle (TensorFlow's `min_consumer`).
    public var minConsumerVersion: Int32

    public init(shardCount: Int32, endianness: Int32 = 0, producerVersion: Int32 = 1, minConsumerVersion: Int32 = 0) {
        self.shardCount = shardCount
        self.endianness = endianness
        self.producerVersion = producerVersion
        self.minConsumerVersion = minConsumerVersion
    }
}

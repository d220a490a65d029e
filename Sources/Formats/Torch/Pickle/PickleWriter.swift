/// Writes the protocol-2 pickle of a state dict exactly as `torch.save` does, so that
/// `torch.load(weights_only=True)` accepts it: an `OrderedDict` of name ->
/// `_rebuild_tensor_v2(persistent storage id, offset, size, stride, False, OrderedDict())`, or
/// `_rebuild_tensor_v3(..., dtype)` for the dtypes torch saves that way.
struct PickleWriter {
    /// One entry of the state dict: a name, the storage it views, and its shape.
    struct Entry {
        let name: String
        let storageKey: String
        let dtype: DType
        let storageElementCount: Int
        let shape: [Int]
    }

    private(set) var bytes: [UInt8] = []

    /// The pickle of `entries`, in order.
    static func stateDict(_ entries: [Entry]) -> [UInt8] {
        var writer = PickleWriter()
        writer.bytes += [Opcode.proto, 2]
        writer.emptyOrderedDict()
        // pickle batches SETITEMS by 1,000, as CPython does.
        for batchStart in stride(from: 0, to: entries.count, by: 1000) {
            writer.bytes.append(Opcode.mark)
            for entry in entries[batchStart..<min(batchStart + 1000, entries.count)] {
                writer.string(entry.name)
                writer.tensor(entry)
            }
            writer.bytes.append(Opcode.setItems)
        }
        writer.bytes.append(Opcode.stop)
        return writer.bytes
    }

    /// One tensor as torch 2.13 pickles it: dtypes with a typed storage class (float32, int64, ...)
    /// through `_rebuild_tensor_v2` and that class, the others (uint16/32/64, float8) through
    /// `_rebuild_tensor_v3`, an `UntypedStorage` counted in bytes, and the dtype object.
    private mutating func tensor(_ entry: Entry) {
        let storageClass = TorchGlobal.storageTypes.first { $0.value == entry.dtype }?.key
        let dtypeName = TorchGlobal.dtypeNames.first { $0.value == entry.dtype }?.key
        precondition(storageClass != nil || dtypeName != nil, "\(entry.dtype) has no torch dtype")
        global(module: "torch._utils", name: storageClass == nil ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2")
        bytes.append(Opcode.mark)
        // Persistent id ('storage', storage class, key, 'cpu', numel), resolved by BINPERSID.
        bytes.append(Opcode.mark)
        string("storage")
        if let storageClass {
            global(module: "torch", name: storageClass)
        } else {
            global(module: "torch.storage", name: "UntypedStorage")
        }
        string(entry.storageKey)
        string("cpu")
        integer(storageClass == nil ? entry.storageElementCount * entry.dtype.byteSize : entry.storageElementCount)
        bytes.append(Opcode.tuple)
        bytes.append(Opcode.binPersId)
        integer(0)  // storage offset
        tuple(entry.shape)
        tuple(Self.contiguousStrides(entry.shape))
        bytes.append(Opcode.newFalse)  // requires_grad
        emptyOrderedDict()  // backward hooks
        if storageClass == nil, let dtypeName { global(module: "torch", name: dtypeName) }
        bytes.append(Opcode.tuple)
        bytes.append(Opcode.reduce)
    }

    /// Row-major strides of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for index in shape.indices.reversed() {
            strides[index] = step
            step *= max(shape[index], 1)
        }
        return strides
    }

    private mutating func emptyOrderedDict() {
        global(module: "collections", name: "OrderedDict")
        bytes.append(Opcode.emptyTuple)
        bytes.append(Opcode.reduce)
    }

    private mutating func global(module: String, name: String) {
        bytes.append(Opcode.global)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    private mutating func tuple(_ values: [Int]) {
        bytes.append(Opcode.mark)
        for value in values { integer(value) }
        bytes.append(Opcode.tuple)
    }

    private mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(Opcode.binUnicode)
        bytes += littleEndian(UInt32(utf8.count))
        bytes += utf8
    }

    /// The shortest of BININT1, BININT2, BININT and LONG1 that holds `value`, as CPython chooses.
    private mutating func integer(_ value: Int) {
        switch value {
        case 0...0xFF: bytes += [Opcode.binInt1, UInt8(value)]
        case 0...0xFFFF: bytes += [Opcode.binInt2] + littleEndian(UInt16(value))
        case Int(Int32.min)...Int(Int32.max): bytes += [Opcode.binInt] + littleEndian(UInt32(bitPattern: Int32(value)))
        default: bytes += [Opcode.long1, 8] + littleEndian(UInt64(bitPattern: Int64(value)))
        }
    }

    private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

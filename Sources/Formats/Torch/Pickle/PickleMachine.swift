/// A pickle interpreter that builds values and never executes anything.
///
/// A pickle is a program for a stack machine whose `GLOBAL` + `REDUCE` can call any Python
/// function. This machine knows the opcodes state dicts use (protocols 2-5, plus the few older
/// ones legacy files use) and a fixed allowlist of globals (`TorchGlobal`): any other global is
/// refused the moment it is named. Every length is checked against the bytes left before anything
/// is allocated, and the stack, the marks and container nesting are bounded.
struct PickleMachine {
    /// Bounds far above any state dict (pickle batches SETITEMS/APPENDS by 1,000) and far below
    /// anything that could exhaust memory or the native stack.
    static let maxStack = 65_536
    static let maxMarks = 4_096
    static let maxGlobalLineLength = 256

    /// The pickle's bytes; `reader.offset` is the next byte to interpret.
    private var reader: ByteReader
    private let path: String
    private let member: String
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Every container built, so `tearDown` can empty them iteratively (see there).
    private var containers: [AnyObject] = []

    /// Reads the pickle that starts at `start` in `bytes`.
    ///
    /// - Parameters:
    ///   - path: the file, for error messages.
    ///   - member: what the bytes are (`archive/data.pkl`), for error messages.
    init(bytes: UnsafeRawBufferPointer, start: Int = 0, path: String, member: String) {
        reader = ByteReader(bytes)
        reader.skip(start)
        self.path = path
        self.member = member
    }

    /// Where the pickle ended (one past its STOP opcode), after `run`.
    var endOffset: Int { reader.offset }

    /// Interprets opcodes up to STOP and returns the value left on the stack.
    mutating func run() throws(TorchError) -> PickleValue {
        while true {
            opcodeOffset = reader.offset
            let opcode = try readByte()
            if opcode == Opcode.stop {
                guard let result = stack.popLast(), stack.isEmpty, marks.isEmpty else {
                    throw invalid("the pickle does not end with exactly one value")
                }
                return result
            }
            try execute(opcode)
            guard stack.count <= Self.maxStack else {
                throw .stackTooDeep(path: path, member: member, offset: opcodeOffset)
            }
        }
    }

    /// Empties every container built, one at a time.
    ///
    /// Containers can nest thousands deep or contain themselves through the memo; releasing such
    /// a structure recursively would overflow the native stack or leak. Call once the values have
    /// been read out.
    mutating func tearDown() {
        for container in containers {
            (container as? PickleList)?.items.removeAll()
            (container as? PickleDict)?.entries.removeAll()
        }
        containers.removeAll()
        memo.removeAll()
        stack.removeAll()
    }

    // MARK: - Opcodes

    private mutating func execute(_ opcode: UInt8) throws(TorchError) {
        switch opcode {
        case Opcode.proto: _ = try readByte()
        case Opcode.frame: _ = try readInteger(UInt64.self)
        case Opcode.mark:
            guard marks.count < Self.maxMarks else {
                throw .stackTooDeep(path: path, member: member, offset: opcodeOffset)
            }
            marks.append(stack.count)
        case Opcode.pop: _ = try pop()
        case Opcode.popMark: _ = try popToMark()
        case Opcode.dup: stack.append(try top())
        case Opcode.none: stack.append(.none)
        case Opcode.newTrue: stack.append(.bool(true))
        case Opcode.newFalse: stack.append(.bool(false))
        case Opcode.binInt: stack.append(.int(Int(try readInteger(Int32.self))))
        case Opcode.binInt1: stack.append(.int(Int(try readByte())))
        case Opcode.binInt2: stack.append(.int(Int(try readInteger(UInt16.self))))
        case Opcode.long1: stack.append(try readLong(length: Int(try readByte())))
        case Opcode.long4:
            let length = try readInteger(Int32.self)
            guard length >= 0 else { throw invalid("negative LONG4 length") }
            stack.append(try readLong(length: Int(length)))
        case Opcode.binFloat:
            // BINFLOAT is the one big-endian number in a pickle.
            guard let bits = reader.readBigEndianInteger(as: UInt64.self) else { throw truncated() }
            stack.append(.float(Double(bitPattern: bits)))
        case Opcode.shortBinUnicode: stack.append(.string(try readString(length: UInt64(try readByte()))))
        case Opcode.binUnicode: stack.append(.string(try readString(length: UInt64(try readInteger(UInt32.self)))))
        case Opcode.binUnicode8: stack.append(.string(try readString(length: try readInteger(UInt64.self))))
        case Opcode.shortBinString: stack.append(.string(try readLatin1(length: UInt64(try readByte()))))
        case Opcode.binString:
            let length = try readInteger(Int32.self)
            guard length >= 0 else { throw invalid("negative BINSTRING length") }
            stack.append(.string(try readLatin1(length: UInt64(length))))
        case Opcode.shortBinBytes: stack.append(.bytes(Array(try readBytes(UInt64(try readByte())))))
        case Opcode.binBytes: stack.append(.bytes(Array(try readBytes(UInt64(try readInteger(UInt32.self))))))
        case Opcode.binBytes8, Opcode.byteArray8:
            stack.append(.bytes(Array(try readBytes(try readInteger(UInt64.self)))))
        case Opcode.emptyTuple: stack.append(.tuple([]))
        case Opcode.tuple: stack.append(.tuple(try popToMark()))
        case Opcode.tuple1: stack.append(.tuple(try pop(1)))
        case Opcode.tuple2: stack.append(.tuple(try pop(2)))
        case Opcode.tuple3: stack.append(.tuple(try pop(3)))
        case Opcode.emptyList, Opcode.emptySet: stack.append(.list(newList()))
        case Opcode.list:
            let list = newList()
            list.items = try popToMark()
            stack.append(.list(list))
        case Opcode.append:
            let item = try pop()
            try list(try top()).items.append(item)
        case Opcode.appends, Opcode.addItems:
            let items = try popToMark()
            try list(try top()).items.append(contentsOf: items)
        case Opcode.frozenSet:
            let list = newList()
            list.items = try popToMark()
            stack.append(.list(list))
        case Opcode.emptyDict: stack.append(.dict(newDict()))
        case Opcode.dict:
            let dict = newDict()
            try setItems(dict, try popToMark())
            stack.append(.dict(dict))
        case Opcode.setItem:
            let pair = try pop(2)
            try setItems(try self.dict(try top()), pair)
        case Opcode.setItems:
            let pairs = try popToMark()
            try setItems(try self.dict(try top()), pairs)
        case Opcode.binPut: memo[Int(try readByte())] = try top()
        case Opcode.longBinPut: memo[Int(try readInteger(UInt32.self))] = try top()
        case Opcode.memoize: memo[memo.count] = try top()
        case Opcode.binGet: stack.append(try memoValue(Int(try readByte())))
        case Opcode.longBinGet: stack.append(try memoValue(Int(try readInteger(UInt32.self))))
        case Opcode.global:
            let module = try readLine()
            let name = try readLine()
            stack.append(.global(try allowlisted(module: module, name: name)))
        case Opcode.stackGlobal:
            let parts = try pop(2)
            guard case let .string(module) = parts[0], case let .string(name) = parts[1] else {
                throw invalid("STACK_GLOBAL needs two strings")
            }
            stack.append(.global(try allowlisted(module: module, name: name)))
        case Opcode.inst:
            // Protocol 0's "instantiate module.name": refused by the same allowlist, which has no classes.
            let module = try readLine()
            let name = try readLine()
            throw .forbiddenGlobal(path: path, member: member, global: "\(module).\(name)", offset: opcodeOffset)
        case Opcode.reduce:
            let arguments = try pop()
            let callable = try pop()
            stack.append(try reduce(callable, arguments))
        case Opcode.build:
            // OrderedDict state (torch sets `_metadata`) and tensor state carry nothing zoo needs.
            _ = try pop()
            _ = try top()
        case Opcode.binPersId: stack.append(try persistentLoad(try pop()))
        // Protocol 0's text opcodes, so an old-style pickle reaches its INST/GLOBAL and is refused there.
        case Opcode.int:
            let text = try readLine()
            switch text {
            case "00": stack.append(.bool(false))
            case "01": stack.append(.bool(true))
            default:
                guard let value = Int(text) else { throw invalid("INT '\(text)' is not an integer") }
                stack.append(.int(value))
            }
        case Opcode.string:
            let text = try readLine()
            guard text.count >= 2, let quote = text.first, quote == "'" || quote == "\"", text.last == quote else {
                throw invalid("STRING argument is not quoted")
            }
            stack.append(.string(String(text.dropFirst().dropLast())))
        case Opcode.unicode: stack.append(.string(try readLine()))
        case Opcode.put:
            guard let index = Int(try readLine()) else { throw invalid("PUT index is not an integer") }
            memo[index] = try top()
        case Opcode.get:
            guard let index = Int(try readLine()) else { throw invalid("GET index is not an integer") }
            stack.append(try memoValue(index))
        default:
            throw .unsupportedOpcode(path: path, member: member, opcode: opcode, offset: opcodeOffset)
        }
    }

    // MARK: - Calls

    private func allowlisted(module: String, name: String) throws(TorchError) -> TorchGlobal {
        guard let global = TorchGlobal(module: module, name: name) else {
            throw .forbiddenGlobal(path: path, member: member, global: "\(module).\(name)", offset: opcodeOffset)
        }
        return global
    }

    private mutating func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(TorchError) -> PickleValue {
        guard case let .global(global) = callable, case let .tuple(args) = arguments else {
            throw invalid("REDUCE needs an allowlisted callable and an argument tuple")
        }
        switch global {
        case .orderedDict:
            guard args.isEmpty else { throw invalid("OrderedDict called with arguments") }
            return .dict(newDict())
        case .rebuildTensorV2:
            return .tensor(try rebuildTensor(args))
        case .rebuildTensorV3:
            // The v2 arguments, then the dtype of the (untyped) storage's elements.
            guard args.count >= 7, case let .global(.dtype(dtype)) = args[6], case let .storage(storage) = args[0]
            else { throw invalid("_rebuild_tensor_v3 needs (storage, offset, size, stride, ..., dtype)") }
            guard storage.isUntyped || storage.dtype == dtype else {
                throw invalid("_rebuild_tensor_v3 reads a \(storage.dtype.rawValue) storage as \(dtype.rawValue)")
            }
            guard let typed = storage.isUntyped ? storage.typed(as: dtype) : storage else {
                throw invalid(
                    "untyped storage '\(storage.key)' of \(storage.elementCount) bytes is not a whole number of "
                        + "\(dtype.byteSize)-byte \(dtype.rawValue) elements")
            }
            var typedArgs = args
            typedArgs[0] = .storage(typed)
            return .tensor(try rebuildTensor(typedArgs))
        case .rebuildParameter:
            guard let data = args.first, case .tensor = data else { throw invalid("_rebuild_parameter needs a tensor") }
            return data
        case .storageType, .untypedStorage, .dtype:
            throw invalid("\(global.qualifiedName) cannot be called")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [PickleValue]) throws(TorchError) -> TorchTensorDescriptor {
        guard args.count >= 4, case let .storage(storage) = args[0], case let .int(offset) = args[1],
            case let .tuple(sizeValues) = args[2], case let .tuple(strideValues) = args[3], offset >= 0,
            sizeValues.count == strideValues.count
        else { throw invalid("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)") }
        // Untyped bytes become a tensor only through `_rebuild_tensor_v3`, which names their dtype.
        guard !storage.isUntyped else { throw invalid("_rebuild_tensor_v2 of an untyped storage (no dtype)") }
        var shape: [Int] = []
        var strides: [Int] = []
        for (size, stride) in zip(sizeValues, strideValues) {
            guard case let .int(dimension) = size, case let .int(step) = stride, dimension >= 0, step >= 0 else {
                throw invalid("tensor sizes and strides must be non-negative integers")
            }
            shape.append(dimension)
            strides.append(step)
        }
        return TorchTensorDescriptor(storage: storage, storageOffset: offset, shape: shape, strides: strides)
    }

    /// `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`.
    private func persistentLoad(_ id: PickleValue) throws(TorchError) -> PickleValue {
        guard case let .tuple(parts) = id, parts.count == 5 || parts.count == 6, case .string("storage") = parts[0],
            case let .global(storageClass) = parts[1], case let .int(count) = parts[4], count >= 0
        else { throw invalid("persistent id is not ('storage', type, key, location, numel)") }
        let dtype: DType
        switch storageClass {
        case let .storageType(typed): dtype = typed
        // An untyped storage counts bytes; `_rebuild_tensor_v3` says what they hold.
        case .untypedStorage: dtype = .u8
        default: throw invalid("persistent id names \(storageClass.qualifiedName), not a storage class")
        }
        let isUntyped = storageClass == .untypedStorage
        let key: String
        switch parts[2] {
        case let .string(text): key = text
        case let .int(number): key = String(number)
        default: throw invalid("storage key is not a string")
        }
        if parts.count == 6, case let .tuple(view) = parts[5] {
            // A legacy view of a storage: (view key, offset in the root, view size).
            guard view.count == 3, case let .int(viewOffset) = view[1], case let .int(viewSize) = view[2],
                viewOffset >= 0, viewSize >= 0
            else { throw invalid("legacy storage view is not (key, offset, size)") }
            return .storage(
                TorchStorageRef(
                    key: key, dtype: dtype, elementCount: count, viewOffset: viewOffset, viewCount: viewSize,
                    isUntyped: isUntyped))
        }
        return .storage(TorchStorageRef(key: key, dtype: dtype, elementCount: count, isUntyped: isUntyped))
    }

    // MARK: - Stack and memo

    private func invalid(_ reason: String) -> TorchError {
        .invalidPickleValue(path: path, member: member, offset: opcodeOffset, reason: reason)
    }

    private func top() throws(TorchError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw .stackUnderflow(path: path, member: member, offset: opcodeOffset)
        }
        return value
    }

    private mutating func pop() throws(TorchError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else {
            throw .stackUnderflow(path: path, member: member, offset: opcodeOffset)
        }
        return value
    }

    private mutating func pop(_ count: Int) throws(TorchError) -> [PickleValue] {
        guard stack.count - (marks.last ?? 0) >= count else {
            throw .stackUnderflow(path: path, member: member, offset: opcodeOffset)
        }
        let values = Array(stack.suffix(count))
        stack.removeLast(count)
        return values
    }

    private mutating func popToMark() throws(TorchError) -> [PickleValue] {
        guard let mark = marks.popLast() else {
            throw .stackUnderflow(path: path, member: member, offset: opcodeOffset)
        }
        let values = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return values
    }

    private func memoValue(_ index: Int) throws(TorchError) -> PickleValue {
        guard let value = memo[index] else {
            throw .invalidMemo(path: path, member: member, index: index, offset: opcodeOffset)
        }
        return value
    }

    private mutating func newList() -> PickleList {
        let list = PickleList()
        containers.append(list)
        return list
    }

    private mutating func newDict() -> PickleDict {
        let dict = PickleDict()
        containers.append(dict)
        return dict
    }

    private func list(_ value: PickleValue) throws(TorchError) -> PickleList {
        guard case let .list(list) = value else { throw invalid("APPEND to a \(value.kind), not a list") }
        return list
    }

    private func dict(_ value: PickleValue) throws(TorchError) -> PickleDict {
        guard case let .dict(dict) = value else { throw invalid("SETITEM on a \(value.kind), not a dict") }
        return dict
    }

    private func setItems(_ dict: PickleDict, _ flat: [PickleValue]) throws(TorchError) {
        guard flat.count % 2 == 0 else { throw invalid("SETITEMS with an odd number of values") }
        for index in stride(from: 0, to: flat.count, by: 2) {
            dict.entries.append((flat[index], flat[index + 1]))
        }
    }

    // MARK: - Reading arguments

    private func truncated() -> TorchError {
        .truncatedPickle(path: path, member: member, offset: reader.offset)
    }

    private mutating func readByte() throws(TorchError) -> UInt8 {
        guard let byte = reader.readInteger(as: UInt8.self) else { throw truncated() }
        return byte
    }

    private mutating func readInteger<T: FixedWidthInteger>(_ type: T.Type) throws(TorchError) -> T {
        guard let value = reader.readInteger(as: T.self) else { throw truncated() }
        return value
    }

    /// `length` bytes, after checking they exist: a declared length is never trusted.
    private mutating func readBytes(_ length: UInt64) throws(TorchError) -> UnsafeRawBufferPointer {
        guard let bytes = reader.readBytes(length) else {
            throw .lengthTooLarge(
                path: path, member: member, length: length, remaining: reader.remaining, offset: opcodeOffset)
        }
        return bytes
    }

    private mutating func readString(length: UInt64) throws(TorchError) -> String {
        let raw = try readBytes(length)
        guard let string = String(validating: raw, as: UTF8.self) else { throw invalid("string is not valid UTF-8") }
        return string
    }

    /// Python 2 byte strings (legacy files): Latin-1.
    private mutating func readLatin1(length: UInt64) throws(TorchError) -> String {
        String(decoding: try readBytes(length).map { UInt16($0) }, as: UTF16.self)
    }

    /// A newline-terminated line (GLOBAL/INST arguments), at most `maxGlobalLineLength` bytes.
    private mutating func readLine() throws(TorchError) -> String {
        let start = reader.offset
        guard let newline = reader.firstIndex(of: 0x0A, from: start, limit: Self.maxGlobalLineLength) else {
            throw reader.remaining < Self.maxGlobalLineLength
                ? truncated() : invalid("GLOBAL name longer than \(Self.maxGlobalLineLength) bytes")
        }
        let line = try readBytes(UInt64(newline - start))
        reader.skip(1)
        return String(decoding: line, as: UTF8.self)
    }

    /// LONG1/LONG4: little-endian two's complement of `length` bytes.
    private mutating func readLong(length: Int) throws(TorchError) -> PickleValue {
        let raw = Array(try readBytes(UInt64(length)))
        guard raw.count <= 8 else { return .bigInt(raw) }
        guard let last = raw.last else { return .int(0) }
        var value: UInt64 = last & 0x80 != 0 ? .max : 0  // sign-extend
        for (index, byte) in raw.enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(index)))
            value |= UInt64(byte) << (8 * UInt64(index))
        }
        return .int(Int(bitPattern: UInt(value)))
    }
}

/// Pickle opcodes, by their byte.
enum Opcode {
    static let mark: UInt8 = 0x28, stop: UInt8 = 0x2E, pop: UInt8 = 0x30, popMark: UInt8 = 0x31, dup: UInt8 = 0x32
    static let binFloat: UInt8 = 0x47, binInt: UInt8 = 0x4A, binInt1: UInt8 = 0x4B, binInt2: UInt8 = 0x4D
    static let none: UInt8 = 0x4E, binPersId: UInt8 = 0x51, reduce: UInt8 = 0x52, binString: UInt8 = 0x54
    static let shortBinString: UInt8 = 0x55, binUnicode: UInt8 = 0x58, binBytes: UInt8 = 0x42,
        shortBinBytes: UInt8 = 0x43
    static let emptyList: UInt8 = 0x5D, append: UInt8 = 0x61, build: UInt8 = 0x62, global: UInt8 = 0x63
    static let dict: UInt8 = 0x64, appends: UInt8 = 0x65, binGet: UInt8 = 0x68, inst: UInt8 = 0x69
    static let longBinGet: UInt8 = 0x6A, list: UInt8 = 0x6C, binPut: UInt8 = 0x71, longBinPut: UInt8 = 0x72
    static let setItem: UInt8 = 0x73, tuple: UInt8 = 0x74, setItems: UInt8 = 0x75, emptyDict: UInt8 = 0x7D
    static let emptyTuple: UInt8 = 0x29, proto: UInt8 = 0x80, newTrue: UInt8 = 0x88, newFalse: UInt8 = 0x89
    static let long1: UInt8 = 0x8A, long4: UInt8 = 0x8B, tuple1: UInt8 = 0x85, tuple2: UInt8 = 0x86,
        tuple3: UInt8 = 0x87
    static let shortBinUnicode: UInt8 = 0x8C, binUnicode8: UInt8 = 0x8D, binBytes8: UInt8 = 0x8E
    static let emptySet: UInt8 = 0x8F, addItems: UInt8 = 0x90, frozenSet: UInt8 = 0x91, stackGlobal: UInt8 = 0x93
    static let memoize: UInt8 = 0x94, frame: UInt8 = 0x95, byteArray8: UInt8 = 0x96
    static let int: UInt8 = 0x49, string: UInt8 = 0x53, unicode: UInt8 = 0x56, put: UInt8 = 0x70, get: UInt8 = 0x67
}

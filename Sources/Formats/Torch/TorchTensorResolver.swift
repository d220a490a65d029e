/// Turns tensor descriptors into `TensorRef`s over their storages' bytes.
///
/// Every number comes from the file, so each is checked: the storage holds exactly the bytes its
/// persistent id declares, and every element a tensor's offset, sizes and strides reach lies inside
/// it. Contiguous tensors point straight into the mapped file; a non-contiguous view (a transpose,
/// a strided slice) is copied out once, into memory no larger than its storage.
struct TorchTensorResolver {
    /// Where a storage's bytes are: a file and a byte range of it.
    struct StorageBytes {
        let file: MappedFile
        let range: Range<Int>
    }

    let path: String
    /// The bytes of the storage with the given key, or `nil` if the file lacks it.
    let storageBytes: (String) -> StorageBytes?
    /// What to call a missing storage in the error (`archive/data/3`).
    let storageName: (String) -> String

    /// The most bytes an overlapping view (`expand()`) is copied out to.
    static let largestExpandedView = 1 << 30

    func resolve(_ entries: [TorchStateDict.Entry]) throws -> [TensorRef] {
        try entries.map { try resolve($0) }
    }

    private func resolve(_ entry: TorchStateDict.Entry) throws -> TensorRef {
        let descriptor = entry.tensor
        let storage = descriptor.storage
        let itemSize = storage.dtype.byteSize
        guard let bytes = storageBytes(storage.key) else {
            throw TorchError.missingMember(path: path, member: storageName(storage.key))
        }
        let (declaredBytes, overflow) = storage.elementCount.multipliedReportingOverflow(by: itemSize)
        guard !overflow, declaredBytes == bytes.range.count else {
            throw TorchError.storageSizeMismatch(
                path: path, storage: storageName(storage.key), declared: overflow ? Int.max : declaredBytes,
                actual: bytes.range.count)
        }
        guard storage.viewOffset <= storage.elementCount, storage.viewCount <= storage.elementCount - storage.viewOffset
        else {
            throw TorchError.storageTooSmall(
                path: path, tensor: entry.name, needed: storage.viewOffset.checkedAdding(storage.viewCount) ?? .max,
                available: storage.elementCount)
        }
        guard let spec = TensorSpec(name: entry.name, dtype: storage.dtype, shape: descriptor.shape) else {
            throw TorchError.notAStateDict(
                path: path, reason: "tensor '\(entry.name)' has a shape too large to address")
        }

        // The highest element the view reaches must exist in the storage (view).
        if spec.elementCount > 0 {
            var last = descriptor.storageOffset
            for (size, stride) in zip(descriptor.shape, descriptor.strides) {
                let (step, overflowStep) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflowSum) = last.addingReportingOverflow(step)
                guard !overflowStep, !overflowSum else {
                    throw TorchError.storageTooSmall(
                        path: path, tensor: entry.name, needed: Int.max, available: storage.viewCount)
                }
                last = sum
            }
            guard last < storage.viewCount else {
                throw TorchError.storageTooSmall(
                    path: path, tensor: entry.name, needed: last.checkedAdding(1) ?? .max, available: storage.viewCount)
            }
        } else if descriptor.storageOffset > storage.viewCount {
            throw TorchError.storageTooSmall(
                path: path, tensor: entry.name, needed: descriptor.storageOffset, available: storage.viewCount)
        }

        let firstByte = bytes.range.lowerBound + (storage.viewOffset + descriptor.storageOffset) * itemSize
        if isContiguous(descriptor) {
            return TensorRef(spec: spec, file: bytes.file, fileOffset: firstByte)
        }
        // A view with overlapping strides (`expand()`, stride 0) has more elements than its
        // storage: torch loads it as such a view, zoo copies it out, which costs the view's own
        // size. A few bytes of storage can claim an enormous view, so that copy is capped.
        guard spec.elementCount <= storage.viewCount || spec.byteCount <= Self.largestExpandedView else {
            throw TorchError.notAStateDict(
                path: path,
                reason: "tensor '\(entry.name)' is a view with overlapping strides \(descriptor.strides) of "
                    + "\(spec.byteCount) bytes, more than the \(Self.largestExpandedView) zoo copies out of "
                    + "\(storage.viewCount * itemSize) bytes of storage")
        }
        let copy = try MappedFile(name: "\(path):\(entry.name)", byteCount: spec.byteCount) { target in
            bytes.file.withBytes(in: bytes.range) { source in
                gather(
                    descriptor, itemSize: itemSize, from: source, startingAt: firstByte - bytes.range.lowerBound,
                    into: target)
            }
        }
        return TensorRef(spec: spec, file: copy, fileOffset: 0)
    }

    /// Row-major with no gaps (dimensions of size 1 may have any stride).
    private func isContiguous(_ descriptor: TorchTensorDescriptor) -> Bool {
        var expected = 1
        for (size, stride) in zip(descriptor.shape, descriptor.strides).reversed() {
            if size != 1 && stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// Copies the view's elements in row-major order.
    private func gather(
        _ descriptor: TorchTensorDescriptor, itemSize: Int, from source: UnsafeRawBufferPointer, startingAt start: Int,
        into target: UnsafeMutableRawBufferPointer
    ) {
        guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else { return }
        let shape = descriptor.shape
        var index = [Int](repeating: 0, count: shape.count)
        var written = 0
        let total = target.count / max(itemSize, 1)
        while written < total {
            var element = 0
            for (position, stride) in zip(index, descriptor.strides) { element += position * stride }
            (targetBase + written * itemSize).copyMemory(
                from: sourceBase + start + element * itemSize, byteCount: itemSize)
            written += 1
            // Odometer increment, last dimension fastest.
            var dimension = shape.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                if index[dimension] < shape[dimension] { break }
                index[dimension] = 0
                dimension -= 1
            }
        }
    }
}

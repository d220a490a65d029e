/// Turns tensor descriptors into `TensorRef`s over their storages' bytes.
///
/// Every number comes from the file, so each is checked: the storage holds exactly the bytes its
/// persistent id declares, and every element a tensor's offset, sizes and strides reach lies inside
/// it. Contiguous tensors point straight into the mapped file; a non-contiguous view (a transpose,
/// a strided slice) is copied out once, into memory no larger than its storage.
struct TorchTensorResolver {
    /// Where a storage's bytes are: a file and a byte range of it.
    struct StorageBytes {
        let file: any TensorStorage
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
        // expand() repeats by stride 0, which is copied a block at a time; other strides are copied
        // element by element, so they may not reach more elements than the storage has (a 1 GiB
        // view of strides (2, 2) over a few KB took over 20 s in the fuzzing build).
        let steppedElements = zip(descriptor.shape, descriptor.strides).filter { $0.1 != 0 }.map(\.0).checkedProduct()
        guard let steppedElements, steppedElements <= storage.viewCount else {
            throw TorchError.notAStateDict(
                path: path,
                reason: "tensor '\(entry.name)' is a view whose nonzero strides \(descriptor.strides) overlap: "
                    + "more elements than its \(storage.viewCount)-element storage, not made by expand()")
        }
        let copy = try AnonymousStorage(name: "\(path):\(entry.name)", byteCount: spec.byteCount) { target in
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
    ///
    /// An expanded view can be a gigabyte of copies of a few bytes (a 1 GiB `expand()` took over
    /// 10 s element by element in the fuzzing build), so the copy goes a run at a time: a dimension
    /// of stride 0 repeats the block below it (copied by doubling), a last dimension of stride 1 is
    /// one copy, and only other strides go element by element (at most the storage's element count).
    private func gather(
        _ descriptor: TorchTensorDescriptor, itemSize: Int, from source: UnsafeRawBufferPointer, startingAt start: Int,
        into target: UnsafeMutableRawBufferPointer
    ) {
        guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress, !target.isEmpty else { return }
        // Dimensions of size 1 never move; with them gone there are at most 63 (each of size >= 2).
        let dimensions = zip(descriptor.shape, descriptor.strides).filter { $0.0 != 1 }
        let first = sourceBase + start
        guard let last = dimensions.indices.last else {
            targetBase.copyMemory(from: first, byteCount: itemSize)
            return
        }
        // The bytes one step of each dimension covers in the target.
        var blockBytes = [Int](repeating: itemSize, count: dimensions.count)
        for dimension in stride(from: last - 1, through: 0, by: -1) {
            blockBytes[dimension] = blockBytes[dimension + 1] * dimensions[dimension + 1].0
        }
        func fill(_ dimension: Int, element: Int, into output: UnsafeMutableRawPointer) {
            let (size, step) = dimensions[dimension]
            if step == 0 {
                if dimension == last {
                    output.copyMemory(from: first + element * itemSize, byteCount: itemSize)
                } else {
                    fill(dimension + 1, element: element, into: output)
                }
                var filled = 1
                while filled < size {
                    let copies = min(filled, size - filled)
                    (output + filled * blockBytes[dimension]).copyMemory(
                        from: output, byteCount: copies * blockBytes[dimension])
                    filled += copies
                }
            } else if dimension == last && step == 1 {
                output.copyMemory(from: first + element * itemSize, byteCount: size * itemSize)
            } else if dimension == last {
                for index in 0..<size {
                    (output + index * itemSize).copyMemory(
                        from: first + (element + index * step) * itemSize, byteCount: itemSize)
                }
            } else {
                for index in 0..<size {
                    fill(dimension + 1, element: element + index * step, into: output + index * blockBytes[dimension])
                }
            }
        }
        fill(0, element: 0, into: targetBase)
    }
}

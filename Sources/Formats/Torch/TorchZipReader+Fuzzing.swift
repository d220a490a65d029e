/// The pickle fuzzer's way in (`FuzzTesting/`): not API, hence `@_spi(Fuzzing)`.
extension TorchZipReader {
    /// Interprets `bytes` as a `data.pkl` and resolves its tensors, each storage standing in as
    /// zeroed memory of the size its first tensor declares, so the pickle machine, the state dict
    /// and the tensor resolver can be fuzzed without a zip (and its CRCs) around the pickle.
    ///
    /// - Parameter maxStorageBytes: storages declaring more bytes are left out (reported missing).
    /// - Throws: `TorchError`, as `open` would for the same pickle in an archive.
    @_spi(Fuzzing)
    public static func tensors(
        fromPickle bytes: UnsafeRawBufferPointer, maxStorageBytes: Int
    ) throws -> (tensors: [TensorRef], skipped: [String]) {
        let path = "data.pkl"
        var machine = PickleMachine(bytes: bytes, path: path, member: path)
        defer { machine.tearDown() }
        let stateDict = try TorchStateDict(try machine.run(), path: path)
        var storages: [String: AnonymousStorage] = [:]
        for entry in stateDict.entries where storages[entry.tensor.storage.key] == nil {
            let storage = entry.tensor.storage
            guard let byteCount = storage.elementCount.checkedMultiplying(by: storage.dtype.byteSize),
                byteCount >= 0, byteCount <= maxStorageBytes
            else { continue }
            storages[storage.key] = try AnonymousStorage(name: "storage \(storage.key)", byteCount: byteCount) { _ in }
        }
        let resolver = TorchTensorResolver(
            path: path, storageBytes: { key in storages[key].map { .init(file: $0, range: 0..<$0.size) } },
            storageName: { "storage \($0)" })
        return (try resolver.resolve(stateDict.entries), stateDict.skipped)
    }
}

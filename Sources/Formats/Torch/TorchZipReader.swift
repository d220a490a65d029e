import Foundation

/// Reads `torch.save` files (PyTorch 1.6 and later): a zip of `<prefix>/data.pkl`, a
/// `<prefix>/data/<key>` member per storage, and bookkeeping members.
public enum TorchZipReader: CheckpointReader {
    public static let format = CheckpointFormat.pytorchZip

    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool {
        prefix.starts(with: [0x50, 0x4B, 0x03, 0x04])
    }

    public static func open(_ url: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        let path = url.path
        let file = try MappedFile(path: path)
        let archive = try ZipArchive(file)

        // The one `<prefix>/data.pkl` at the top of the archive names the prefix of everything else.
        let pickles = archive.members.filter {
            $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2
        }
        guard pickles.count == 1, let pickle = pickles.first else {
            throw TorchError.missingMember(
                path: path, member: pickles.isEmpty ? "<prefix>/data.pkl" : "a single data.pkl")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        var isBigEndian = false
        if let byteOrder = archive.member(named: prefix + "byteorder") {
            try archive.verifyChecksum(of: byteOrder)
            let text = file.withBytes(in: byteOrder.dataRange) { String(decoding: $0, as: UTF8.self) }
            guard text == "little" || text == "big" else {
                throw TorchError.invalidPickleValue(
                    path: path, member: byteOrder.name, offset: byteOrder.dataRange.lowerBound,
                    reason: "byte order '\(text.prefix(16))' is neither 'little' nor 'big'")
            }
            isBigEndian = text == "big"
        }

        // The pickle is checked before it is interpreted.
        try archive.verifyChecksum(of: pickle)
        let stateDict = try file.withBytes(in: pickle.dataRange) { bytes throws(TorchError) in
            var machine = PickleMachine(bytes: bytes, path: path, member: pickle.name)
            defer { machine.tearDown() }
            return try TorchStateDict(try machine.run(), path: path)
        }
        let resolver = TorchTensorResolver(
            path: path,
            storageBytes: { key in
                archive.member(named: prefix + "data/" + key).map { .init(file: file, range: $0.dataRange) }
            },
            storageName: { prefix + "data/" + $0 })
        var tensors = try resolver.resolve(stateDict.entries)
        // A file saved on a big-endian machine: torch.load swaps its elements, and so does zoo,
        // into memory of its own per tensor (the storages' CRC-32s are checked below, at open).
        if isBigEndian { tensors = try tensors.map { try Self.byteSwapped($0, path: path) } }

        // A storage member read whole by one tensor can be checked as that tensor is read; every
        // other member (views, unreferenced storages, bookkeeping) is checked now.
        var deferred: Set<String> = [pickle.name]
        if checksums == .verifyWhenRead {
            let byRange = Dictionary(archive.members.map { ($0.dataRange, $0) }) { first, _ in first }
            tensors = tensors.map { tensor in
                guard tensor.file === file, let member = byRange[tensor.byteRange], !tensor.byteRange.isEmpty,
                    member.hasStoredChecksum
                else {
                    return tensor
                }
                deferred.insert(member.name)
                return TensorRef(
                    spec: tensor.spec, file: file, fileOffset: tensor.fileOffset, expectedChecksum: .crc32(member.crc32)
                )
            }
        }
        try archive.verifyChecksums(except: deferred)
        let unverified = archive.members.filter { !$0.hasStoredChecksum }.map { "\(url.lastPathComponent): \($0.name)" }
        return Checkpoint(
            format: format, location: url, directory: url.deletingLastPathComponent(), files: [url],
            tensors: tensors, metadata: [:], skipped: stateDict.skipped, unverified: unverified)
    }

    /// `tensor` with each element's bytes reversed, in anonymous memory.
    private static func byteSwapped(_ tensor: TensorRef, path: String) throws -> TensorRef {
        let width = tensor.dtype.byteSize
        guard width > 1 else { return tensor }
        let copy = try AnonymousStorage(name: "\(path):\(tensor.name) (byte-swapped)", byteCount: tensor.spec.byteCount)
        {
            target in
            tensor.withUnsafeBytes { source in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                for element in stride(from: 0, to: source.count, by: width) {
                    for byte in 0..<width {
                        to.storeBytes(
                            of: from.load(fromByteOffset: element + width - 1 - byte, as: UInt8.self),
                            toByteOffset: element + byte, as: UInt8.self)
                    }
                }
            }
        }
        return TensorRef(spec: tensor.spec, file: copy, fileOffset: 0)
    }
}

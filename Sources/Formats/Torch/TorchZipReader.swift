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
        if let byteOrder = archive.member(named: prefix + "byteorder") {
            let text = file.withBytes(in: byteOrder.dataRange) { String(decoding: $0, as: UTF8.self) }
            guard text == "little" else { throw TorchError.bigEndian(path: path) }
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
}

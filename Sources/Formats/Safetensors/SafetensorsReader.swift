import Foundation

/// Reads a single safetensors file: validates the whole header, then hands out mapped tensors.
public enum SafetensorsReader: CheckpointReader {
    public static let format = CheckpointFormat.safetensors

    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool {
        // An 8-byte little-endian length that fits in the file, then a JSON object.
        guard prefix.count >= 9, prefix[8] == UInt8(ascii: "{") else { return false }
        let length = prefix.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return length <= UInt64(SafetensorsHeader.maxHeaderLength) && length + 8 <= UInt64(fileSize)
    }

    /// safetensors stores no checksums, so `checksums` changes nothing.
    public static func open(_ url: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        let file = try MappedFile(path: url.path)
        let header = try file.withBytes(in: 0..<file.size) { bytes throws(SafetensorsError) in
            try SafetensorsHeader(fileBytes: bytes, path: url.path)
        }
        let tensors = header.entries.map { entry in
            TensorRef(spec: entry.spec, file: file, fileOffset: header.dataStart + entry.dataOffsets.lowerBound)
        }
        return Checkpoint(
            format: .safetensors, location: url, directory: url.deletingLastPathComponent(), files: [url],
            tensors: tensors, metadata: header.metadata)
    }
}

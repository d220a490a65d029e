internal import CTensorBundleProto

/// The one place that calls protobuf-c for bundle protos: decoding and encoding the index's
/// header and entries. protobuf-c checks lengths and wire types; a value it cannot parse is `nil`.
enum BundleProtos {
    static func decodeEntry(_ bytes: UnsafeRawBufferPointer) -> BundleEntry? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
            let message = tensorflow__bundle_entry_proto__unpack(nil, bytes.count, base)
        else {
            return bytes.isEmpty
                ? BundleEntry(dataType: 0, shape: [], shardID: 0, offset: 0, size: 0, maskedCRC32C: 0) : nil
        }
        defer { tensorflow__bundle_entry_proto__free_unpacked(message, nil) }
        let entry = message.pointee
        var shape: [Int64] = []
        if let proto = entry.shape {
            for index in 0..<proto.pointee.n_dim {
                shape.append(proto.pointee.dim[index]?.pointee.size ?? -1)
            }
        }
        // protobuf-c keeps an enum as the raw 32 bits of its varint; TensorFlow's enums are int32, so
        // a value past Int32.max is a negative number, not a trap.
        return BundleEntry(
            dataType: Int32(bitPattern: entry.dtype.rawValue), shape: shape, shardID: entry.shard_id,
            offset: entry.offset,
            size: entry.size, maskedCRC32C: entry.crc32c, sliceCount: entry.n_slices)
    }

    static func decodeHeader(_ bytes: UnsafeRawBufferPointer) -> BundleHeader? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return BundleHeader(shardCount: 0)
        }
        guard let message = tensorflow__bundle_header_proto__unpack(nil, bytes.count, base) else { return nil }
        defer { tensorflow__bundle_header_proto__free_unpacked(message, nil) }
        let header = message.pointee
        return BundleHeader(
            shardCount: header.num_shards, endianness: Int32(bitPattern: header.endianness.rawValue),
            producerVersion: header.version?.pointee.producer ?? 0,
            minConsumerVersion: header.version?.pointee.min_consumer ?? 0)
    }

    static func encode(_ entry: BundleEntry) -> [UInt8] {
        var message = Tensorflow__BundleEntryProto()
        tensorflow__bundle_entry_proto__init(&message)
        message.dtype = Tensorflow__DataType(rawValue: UInt32(bitPattern: entry.dataType))
        message.shard_id = entry.shardID
        message.offset = entry.offset
        message.size = entry.size
        message.crc32c = entry.maskedCRC32C
        var shape = Tensorflow__TensorShapeProto()
        tensorflow__tensor_shape_proto__init(&shape)
        var dims = entry.shape.map { size -> Tensorflow__TensorShapeProto__Dim in
            var dim = Tensorflow__TensorShapeProto__Dim()
            tensorflow__tensor_shape_proto__dim__init(&dim)
            dim.size = size
            return dim
        }
        return dims.withUnsafeMutableBufferPointer { dimBuffer in
            var pointers: [UnsafeMutablePointer<Tensorflow__TensorShapeProto__Dim>?] = (0..<dimBuffer.count).map {
                index in
                dimBuffer.baseAddress.map { base in base + index }
            }
            return pointers.withUnsafeMutableBufferPointer { pointerBuffer in
                shape.n_dim = pointerBuffer.count
                shape.dim = pointerBuffer.baseAddress
                return withUnsafeMutablePointer(to: &shape) { shapePointer in
                    message.shape = shapePointer
                    let size = tensorflow__bundle_entry_proto__get_packed_size(&message)
                    var bytes = [UInt8](repeating: 0, count: size)
                    _ = bytes.withUnsafeMutableBufferPointer {
                        tensorflow__bundle_entry_proto__pack(&message, $0.baseAddress)
                    }
                    return bytes
                }
            }
        }
    }

    static func encode(_ header: BundleHeader) -> [UInt8] {
        var message = Tensorflow__BundleHeaderProto()
        tensorflow__bundle_header_proto__init(&message)
        message.num_shards = header.shardCount
        message.endianness = Tensorflow__BundleHeaderProto__Endianness(rawValue: UInt32(bitPattern: header.endianness))
        var version = Tensorflow__VersionDef()
        tensorflow__version_def__init(&version)
        version.producer = header.producerVersion
        version.min_consumer = header.minConsumerVersion
        return withUnsafeMutablePointer(to: &version) { versionPointer in
            message.version = versionPointer
            let size = tensorflow__bundle_header_proto__get_packed_size(&message)
            var bytes = [UInt8](repeating: 0, count: size)
            _ = bytes.withUnsafeMutableBufferPointer { tensorflow__bundle_header_proto__pack(&message, $0.baseAddress) }
            return bytes
        }
    }
}

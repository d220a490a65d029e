import Testing

@testable import Formats

@Suite struct BundleProtoTests {
    @Test func entriesRoundTripThroughProtobufC() throws {
        let entry = BundleEntry(
            dataType: 14, shape: [2048, 64], shardID: 1, offset: 123_456, size: 262_144, maskedCRC32C: 0xDEAD_BEEF)
        let bytes = BundleProtos.encode(entry)
        let decoded = bytes.withUnsafeBytes { BundleProtos.decodeEntry($0) }
        #expect(decoded == entry)
        #expect(decoded?.dtype == .bf16)
        // Scalars have an empty shape.
        let scalar = BundleEntry(dataType: 9, shape: [], shardID: 0, offset: 0, size: 8, maskedCRC32C: 1)
        #expect(BundleProtos.encode(scalar).withUnsafeBytes { BundleProtos.decodeEntry($0) } == scalar)
    }

    @Test func headersRoundTrip() {
        let header = BundleHeader(shardCount: 2, endianness: 0, producerVersion: 1)
        #expect(BundleProtos.encode(header).withUnsafeBytes { BundleProtos.decodeHeader($0) } == header)
    }

    @Test func truncatedProtobufIsRejected() {
        let bytes = BundleProtos.encode(
            BundleEntry(dataType: 1, shape: [4, 4], shardID: 0, offset: 0, size: 64, maskedCRC32C: 7))
        let truncated = Array(bytes.dropLast(3))
        #expect(truncated.withUnsafeBytes { BundleProtos.decodeEntry($0) } == nil)
    }

    /// Every element-wise dtype zoo knows, float8 included (DT_FLOAT8_E5M2 = 24, DT_FLOAT8_E4M3FN =
    /// 25, as TensorFlow's types.proto numbers them), maps to a TensorFlow number and back; Q8_0 has
    /// none.
    @Test(arguments: DType.allCases) func everyDTypeHasATensorFlowNumber(dtype: DType) throws {
        guard !dtype.isBlockQuantized else {
            #expect(BundleEntry.dataType(of: dtype) == nil)
            return
        }
        let number = try #require(BundleEntry.dataType(of: dtype))
        #expect(
            BundleEntry(dataType: number, shape: [], shardID: 0, offset: 0, size: 0, maskedCRC32C: 0).dtype == dtype)
    }
}

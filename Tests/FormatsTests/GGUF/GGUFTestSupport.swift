import Foundation
import TestSupport
import Testing

@testable import Formats

/// The committed gguf-py fixtures (`Tests/Fixtures/gguf/`, written by `make-fixtures.py gguf_files`).
enum GGUFFixtures {
    static let files = ["metadata.gguf", "q8_0.gguf", "aligned64.gguf"]

    static func url(_ name: String) -> URL { Fixtures.url("gguf/\(name)") }

    /// `expected.json`: per file, what gguf-py reads back.
    static func expected() throws -> JSONValue {
        try JSONParser.parse(Array(Data(contentsOf: url("expected.json"))))
    }

    /// `expected.safetensors`: `<file>/<tensor>.raw` bytes, `.values` floats, `.input` Q8_0 inputs.
    static func arrays() throws -> Checkpoint {
        try SafetensorsReader.open(url("expected.safetensors"))
    }

    /// A metadata value in `expected.json`'s encoding: floats as bit patterns, arrays as
    /// `{"element_type", "items"}`.
    static func json(_ value: GGUFValue) -> JSONValue {
        switch value {
        case let .uint8(value): .number(String(value))
        case let .int8(value): .number(String(value))
        case let .uint16(value): .number(String(value))
        case let .int16(value): .number(String(value))
        case let .uint32(value): .number(String(value))
        case let .int32(value): .number(String(value))
        case let .float32(value): .number(String(value.bitPattern))
        case let .bool(value): .bool(value)
        case let .string(value): .string(value)
        case let .array(value): json(value)
        case let .uint64(value): .number(String(value))
        case let .int64(value): .number(String(value))
        case let .float64(value): .number(String(value.bitPattern))
        }
    }

    static func json(_ array: GGUFArray) -> JSONValue {
        .object([
            JSONValue.Member(key: "element_type", value: .string(array.elementType.name)),
            JSONValue.Member(key: "items", value: .array(array.elements.map(json))),
        ])
    }

    static func json(_ metadata: [(key: String, value: GGUFValue)]) -> JSONValue {
        .array(
            metadata.map { entry in
                .object([
                    JSONValue.Member(key: "key", value: .string(entry.key)),
                    JSONValue.Member(key: "type", value: .string(entry.value.type.name)),
                    JSONValue.Member(key: "value", value: json(entry.value)),
                ])
            })
    }
}

/// Collects what a byte source emits.
struct CollectingSink: ByteSink {
    var bytes: [UInt8] = []

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes.append(contentsOf: bytes)
    }
}

extension TensorByteSource {
    /// Everything the source emits.
    func emittedBytes() throws -> [UInt8] {
        var sink = CollectingSink()
        try emit(into: &sink)
        return sink.bytes
    }
}

extension TensorRef {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

/// A tensor in anonymous memory holding `values` as F32.
func floatTensor(_ name: String, _ values: [Float], shape: [Int]) throws -> TensorRef {
    let spec = try #require(TensorSpec(name: name, dtype: .f32, shape: shape))
    let file = try AnonymousStorage(name: name, byteCount: values.count * 4) { buffer in
        values.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
    return TensorRef(spec: spec, file: file, fileOffset: 0)
}

import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct Q8_0Tests {
    static let quantized = ["q.mixed", "q.1d", "q.3d"]

    /// gguf-py's `quants.quantize` bytes, from the committed float input (zero blocks, ties at .5,
    /// huge and tiny scales, negative maxima).
    @Test(arguments: quantized) func quantizesAsGGUFPy(_ name: String) throws {
        let arrays = try GGUFFixtures.arrays()
        let input = try #require(arrays.tensor(named: "q8_0.gguf/\(name).input"))
        let expected = try #require(arrays.tensor(named: "q8_0.gguf/\(name).raw")).bytes
        let floats = input.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var output = [UInt8](repeating: 0xAA, count: expected.count)
        let nonFinite = floats.withUnsafeBufferPointer { values in
            output.withUnsafeMutableBytes { Q8_0.quantize(values, into: $0) }
        }
        #expect(nonFinite == nil)
        #expect(output == expected)
        let streamed = try #require(Q8_0QuantizingTensor(input, name: name))
        #expect(streamed.outputSpec.shape == input.shape && streamed.outputSpec.dtype == .q8_0)
        #expect(try streamed.emittedBytes() == expected)
    }

    /// gguf-py's `quants.dequantize` values, bit for bit (inf and NaN from an fp16 scale that
    /// overflowed included).
    @Test(arguments: quantized) func dequantizesAsGGUFPy(_ name: String) throws {
        let arrays = try GGUFFixtures.arrays()
        let expected = try #require(arrays.tensor(named: "q8_0.gguf/\(name).values")).bytes
        let tensor = try #require(try GGUFReader.open(GGUFFixtures.url("q8_0.gguf")).tensor(named: name))
        let source = try #require(Q8_0DequantizingTensor(tensor))
        #expect(source.outputSpec.dtype == .f32 && source.outputSpec.shape == tensor.shape)
        #expect(try source.emittedBytes() == expected)
    }

    @Test func widensF16AndBF16Exactly() throws {
        let values: [Float] = (0..<64).map { Float($0) * 0.25 - 8 }  // exact in f16 and bf16
        let reference = try Q8_0QuantizingTensor(floatTensor("f", values, shape: [2, 32])).map { try $0.emittedBytes() }
        for dtype in [DType.f16, .bf16] {
            let bits: [UInt16] = values.map { dtype == .f16 ? Float16($0).bitPattern : UInt16($0.bitPattern >> 16) }
            let spec = try #require(TensorSpec(name: "h", dtype: dtype, shape: [2, 32]))
            let file = try AnonymousStorage(name: "h", byteCount: 128) { buffer in
                bits.withUnsafeBytes { buffer.copyMemory(from: $0) }
            }
            let tensor = TensorRef(spec: spec, file: file, fileOffset: 0)
            #expect(try Q8_0QuantizingTensor(tensor)?.emittedBytes() == reference, "\(dtype)")
        }
    }

    @Test func refusesNonFiniteInputNamingTheElement() throws {
        var values = [Float](repeating: 1, count: 96)
        values[70] = .infinity
        let source = try #require(Q8_0QuantizingTensor(try floatTensor("w", values, shape: [3, 32])))
        let error = #expect(throws: GGUFError.self) { try source.emittedBytes() }
        #expect(error == .nonFiniteValue(path: "w", tensor: "w", element: 70))
    }

    @Test func refusesRowsThatAreNotWholeBlocks() throws {
        #expect(Q8_0QuantizingTensor(try floatTensor("w", [Float](repeating: 0, count: 32), shape: [32, 1])) == nil)
    }
}

import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// Casts compared bit for bit with what torch wrote (`Tests/Fixtures/casts/`, see make-fixtures.py).
@Suite struct FloatCastTests {
    static let floatTypes: [DType] = [.f64, .f32, .f16, .bf16]
    static let pairs: [(DType, DType)] = floatTypes.flatMap { from in
        floatTypes.filter { $0 != from }.map { (from, $0) }
    }
    /// float8 is cast from only; every one of its 256 values (the "edge" set) to each float type.
    static let float8Pairs: [(DType, DType)] = [DType.f8e4m3, .f8e5m2].flatMap { from in floatTypes.map { (from, $0) } }

    static let source = Result { try SafetensorsReader.open(Fixtures.url("casts/source.safetensors")) }
    static let torch = Result { try SafetensorsReader.open(Fixtures.url("casts/torch_casts.safetensors")) }

    @Test(arguments: float8Pairs)
    func castsFloat8AsTorchDoes(pair: (DType, DType)) throws {
        try matchesTorchBitForBit(set: "edge", pair: pair)
    }

    @Test(arguments: ["edge", "random"], pairs)
    func matchesTorchBitForBit(set: String, pair: (DType, DType)) throws {
        let (from, to) = pair
        let input = try #require(try Self.source.get().tensor(named: "\(set)_\(from.rawValue)"))
        let expected = try #require(try Self.torch.get().tensor(named: "\(set)_\(from.rawValue)__to__\(to.rawValue)"))
        let (output, _) = cast(input, to: to)
        let reference = expected.withUnsafeBytes { Array($0) }
        let firstDifference = (0..<min(output.count, reference.count)).first { output[$0] != reference[$0] }
        #expect(output.count == reference.count)
        if let byte = firstDifference {
            let element = byte / to.byteSize
            Issue.record(
                "\(set) \(from)->\(to): element \(element) differs: zoo \(hex(output, element, to)) torch \(hex(reference, element, to)) from input \(hex(input.withUnsafeBytes { Array($0) }, element, from))"
            )
        }
    }

    @Test func countsFP16OverflowAndUnderflowLikeTorchRoundsThem() throws {
        let input = try #require(try Self.source.get().tensor(named: "random_F32"))
        let expected = try #require(try Self.torch.get().tensor(named: "random_F32__to__F16"))
        let (_, statistics) = cast(input, to: .f16)
        // Count from torch's output: finite inputs that became inf, non-zero inputs that became 0.
        var overflow = 0
        var underflow = 0
        input.withUnsafeBytes { source in
            expected.withUnsafeBytes { result in
                for index in 0..<input.spec.elementCount {
                    let value = source.loadUnaligned(fromByteOffset: index * 4, as: Float.self)
                    let half = result.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self) & 0x7FFF
                    if value.isFinite && half == 0x7C00 { overflow += 1 }
                    if value != 0 && half == 0 { underflow += 1 }
                }
            }
        }
        #expect(overflow > 0 && underflow > 0, "the fixture exercises both")
        #expect(statistics.overflowToInfinity == overflow)
        #expect(statistics.underflowToZero == underflow)
    }

    @Test func bf16KeepsTheTopOfFloatRangeCounted() {
        // 0x7F7F8000 rounds up to infinity in bf16; 0x7F7F7FFF stays finite.
        let input: [UInt32] = [0x7F7F_8000, 0x7F7F_7FFF, 0x0000_0001, 0x7FC0_0001]
        var output = [UInt16](repeating: 0, count: input.count)
        var statistics = CastStatistics()
        input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                FloatCast.convert(
                    source.baseAddress!, from: .f32, into: target.baseAddress!, to: .bf16, count: 4,
                    statistics: &statistics)
            }
        }
        #expect(output == [0x7F80, 0x7F7F, 0x0000, 0x7FC0])
        #expect(
            statistics
                == {
                    var expected = CastStatistics()
                    expected.overflowToInfinity = 1
                    expected.underflowToZero = 1
                    expected.nanCount = 1
                    return expected
                }())
    }

    @Test func castingTensorStreamsInChunksAndMatchesTheKernel() throws {
        let input = try #require(try Self.source.get().tensor(named: "random_F32"))
        let casting = try #require(CastingTensor(input, to: .bf16))
        var sink = CollectingSink()
        try casting.emit(into: &sink)
        #expect(sink.bytes == cast(input, to: .bf16).bytes)
        #expect(sink.writes > 0)
        #expect(CastingTensor(input, to: .i32) == nil)
    }

    private func cast(_ tensor: TensorRef, to dtype: DType) -> (bytes: [UInt8], statistics: CastStatistics) {
        var output = [UInt8](repeating: 0, count: tensor.spec.elementCount * dtype.byteSize)
        var statistics = CastStatistics()
        tensor.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                guard let from = source.baseAddress, let into = target.baseAddress else { return }
                FloatCast.convert(
                    from, from: tensor.dtype, into: into, to: dtype, count: tensor.spec.elementCount,
                    statistics: &statistics)
            }
        }
        return (output, statistics)
    }

    private func hex(_ bytes: [UInt8], _ element: Int, _ dtype: DType) -> String {
        let slice = bytes[(element * dtype.byteSize)..<((element + 1) * dtype.byteSize)]
        return "0x" + slice.reversed().map { String(format: "%02X", $0) }.joined()
    }
}

/// A sink that keeps everything written to it.
struct CollectingSink: ByteSink {
    var bytes: [UInt8] = []
    var writes = 0

    mutating func write(_ chunk: UnsafeRawBufferPointer) throws {
        bytes.append(contentsOf: chunk)
        writes += 1
    }
}

import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import Verify

@Suite struct TensorComparisonTests {
    /// Writes `values` as one F32 tensor "x" and returns it.
    private func tensor(_ values: [Float], dtype: DType = .f32, in directory: TemporaryDirectory, _ name: String) throws
        -> TensorRef
    {
        let path = directory.path(name)
        let spec = try #require(TensorSpec(name: "x", dtype: .f32, shape: [values.count]))
        var header = SafetensorsWriter.header(for: [spec], metadata: [:])
        header += values.withUnsafeBytes { Array($0) }
        try Data(header).write(to: path)
        let f32 = try #require(try SafetensorsReader.open(path).tensors.first)
        guard dtype != .f32 else { return f32 }
        let cast = directory.path(name + ".cast")
        try SafetensorsWriter.writeFile([try #require(CastingTensor(f32, to: dtype))], metadata: [:], at: cast.path)
        return try #require(try SafetensorsReader.open(cast).tensors.first)
    }

    @Test func identicalTensorsAreBitExact() throws {
        let directory = TemporaryDirectory()
        let a = try tensor([1, 2, 3], in: directory, "a")
        let b = try tensor([1, 2, 3], in: directory, "b")
        let comparison = TensorComparison.compare(b, with: a)
        #expect(comparison.bitExact && comparison.passed)
    }

    @Test func onePerturbedElementFailsAndIsLocated() throws {
        let directory = TemporaryDirectory()
        let a = try tensor([1, 2, 3, 4], in: directory, "a")
        let b = try tensor([1, 2, 3.0001, 4], in: directory, "b")
        let comparison = TensorComparison.compare(b, with: a)
        #expect(!comparison.passed)
        #expect(comparison.firstMismatch == 2)
        #expect(abs(comparison.maxAbsoluteError - 0.0001) < 1e-6)
    }

    @Test(arguments: [DType.bf16, .f16])
    func aCastStaysWithinItsRoundingBound(_ dtype: DType) throws {
        let directory = TemporaryDirectory()
        let values: [Float] = (0..<1000).map { Float($0) * 0.37 - 100 } + [0, -0, 1e-3, 3.14159, .nan, .infinity]
        let source = try tensor(values, in: directory, "source")
        let cast = try tensor(values, dtype: dtype, in: directory, "cast")
        let comparison = TensorComparison.compare(cast, with: source)
        #expect(comparison.passed, "max rel \(comparison.maxRelativeError)")
        #expect(comparison.maxRelativeError <= Tolerance.rounding(to: dtype).relative)
        #expect(
            comparison.maxULPError <= 0.5 && comparison.maxULPError > 0.4,
            "correctly rounded: \(comparison.maxULPError) ulp")
        #expect(!comparison.bitExact)
    }

    /// The kernel settles most blocks of a cast in float lanes and the rest (values beyond
    /// 2^±100, zeros with an error, anything near its bound) in doubles: either way its figures
    /// must be the ones computed here directly, value by value, in double.
    @Test(arguments: [DType.bf16, .f16])
    func castFiguresEqualADirectComputation(_ dtype: DType) throws {
        let directory = TemporaryDirectory()
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) * 0x1p-53
        }
        // Blocks of weights, of values over a wide range of exponents, and large ones; zeros in
        // every block.
        let values: [Float] = (0..<6000).map { index in
            let signed = uniform() * 2 - 1
            guard index % 97 != 0 else { return 0 }
            switch index / 1024 {
            case 0, 1, 3: return Float(signed * 0.1)
            case 2: return Float(signed * pow(2, uniform() * 240 - 120))
            default: return Float(signed * 60000)
            }
        }
        let source = try tensor(values, in: directory, "source")
        let cast = try tensor(values, dtype: dtype, in: directory, "cast")
        let castValues: [Double] = cast.withUnsafeBytes { bytes in
            (0..<values.count).map { index in
                let bits = bytes.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)
                return dtype == .bf16
                    ? Double(Float(bitPattern: UInt32(bits) << 16)) : Double(Float(Float16(bitPattern: bits)))
            }
        }
        let (mantissaBits, minExponent) = dtype == .bf16 ? (7, -126) : (10, -14)
        var absolute = 0.0
        var relative = 0.0
        var ulp = 0.0
        for (actual, expected) in zip(castValues, values.map(Double.init)) where actual.isFinite {
            let error = abs(actual - expected)
            absolute = max(absolute, error)
            if expected != 0 { relative = max(relative, Double(Float(error) / Float(abs(expected)))) }
            let exponent = max(expected == 0 ? minExponent : Int(expected.exponent), minExponent)
            ulp = max(ulp, error * pow(2, Double(mantissaBits - exponent)))
        }
        let comparison = TensorComparison.compare(cast, with: source)
        #expect(comparison.maxAbsoluteError == absolute)
        #expect(comparison.maxRelativeError == relative)
        #expect(comparison.maxULPError == ulp)
        // fp16 overflows past 65504: those (and only those) are mismatches.
        #expect(comparison.mismatches == castValues.filter { !$0.isFinite }.count)
        #expect(dtype == .f16 ? comparison.mismatches > 0 : comparison.passed)
    }

    /// Every pair of float dtypes, each through its own loop in the comparison kernel (the pairs a
    /// conversion produces load and widen in registers, fp64 ones go through arrays): the same
    /// mismatches, first mismatch and largest error, past the kernel's first block of 1024.
    @Test(arguments: [DType.f32, .f16, .bf16, .f64], [DType.f32, .f16, .bf16, .f64])
    func everyPairOfFloatDTypesFindsTheSameMismatches(_ actualDType: DType, _ expectedDType: DType) throws {
        guard actualDType != expectedDType else { return }
        let directory = TemporaryDirectory()
        // Halves up to 63.5: exact in every one of the four dtypes, so only the planted errors differ.
        var expected: [Float] = (0..<2100).map { Float($0 % 255 - 127) * 0.5 }
        expected[1800] = .infinity
        expected[1900] = -.infinity
        var actual = expected
        actual[1500] += 1
        actual[1700] = .nan
        actual[1900] = .infinity
        let comparison = TensorComparison.compare(
            try tensor(actual, dtype: actualDType, in: directory, "actual"),
            with: try tensor(expected, dtype: expectedDType, in: directory, "expected"))
        #expect(comparison.mismatches == 3)
        #expect(comparison.firstMismatch == 1500)
        #expect(comparison.maxAbsoluteError == 1)
        // Reported in float precision for values of 32 bits or fewer.
        let relative = 1 / Double(abs(expected[1500]))
        #expect(abs(comparison.maxRelativeError - relative) <= 1e-6 * relative)
    }

    @Test func castBoundsCatchAValueOffByMoreThanHalfAnULP() throws {
        let directory = TemporaryDirectory()
        let source = try tensor([1.0, 2.0], in: directory, "source")
        // 1 + 2^-7 is one bf16 ulp above 1.0: a correct cast of 1.0 never lands there.
        let wrong = try tensor([1.0 + 0x1p-7, 2.0], dtype: .bf16, in: directory, "wrong")
        #expect(!TensorComparison.compare(wrong, with: source).passed)
    }

    @Test func nanAndInfinityMatchOnlyThemselves() {
        let tolerance = Tolerance(absolute: 1, relative: 1)
        #expect(tolerance.accepts(.nan, expected: .nan))
        #expect(!tolerance.accepts(0, expected: .nan))
        #expect(!tolerance.accepts(.infinity, expected: 65504))
        #expect(!tolerance.accepts(-.infinity, expected: .infinity))
    }

    @Test func checkpointComparisonFollowsFoldedAliases() throws {
        let directory = TemporaryDirectory()
        let sample = try Checkpoint.open(Fixtures.sample)
        let shared = try #require(sample.tensor(named: "shared.weight"))
        let withAlias = directory.path("alias.safetensors")
        try SafetensorsWriter.writeFile(
            sample.tensors + [shared.renamed("lm_head.weight")], metadata: [:], at: withAlias.path)
        let comparison = CheckpointComparison(sample, against: try Checkpoint.open(withAlias))
        #expect(comparison.passed && comparison.missing.isEmpty)
        #expect(comparison.bitExactCount == sample.tensors.count + 1)

        // A tied name the source lacks compares with the source's shared.weight...
        let reversed = CheckpointComparison(try Checkpoint.open(withAlias), against: sample)
        #expect(reversed.passed && reversed.extra.isEmpty && reversed.bitExactCount == sample.tensors.count + 1)
        // ...but any other extra tensor fails the comparison.
        let withStray = directory.path("stray.safetensors")
        try SafetensorsWriter.writeFile(
            sample.tensors + [shared.renamed("encoder.stray.weight")], metadata: [:], at: withStray.path)
        let stray = CheckpointComparison(try Checkpoint.open(withStray), against: sample)
        #expect(stray.extra == ["encoder.stray.weight"] && !stray.passed)
    }

    @Test func sha256MatchesAKnownDigest() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("abc")
        try Data("abc".utf8).write(to: path)
        #expect(
            try FileDigest.sha256(path: path.path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        let empty = directory.path("empty")
        try Data().write(to: empty)
        #expect(
            try FileDigest.sha256(path: empty.path)
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

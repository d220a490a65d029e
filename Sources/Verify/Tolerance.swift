import Formats

/// An `allclose` bound, `|actual - expected| <= absolute + relative * |expected|`, as NumPy defines it.
public struct Tolerance: Sendable, Equatable {
    public var absolute: Double
    public var relative: Double

    public init(absolute: Double, relative: Double) {
        self.absolute = absolute
        self.relative = relative
    }

    /// No difference at all.
    public static let exact = Tolerance(absolute: 0, relative: 0)

    /// The error one round-to-nearest into `dtype` may introduce: half an ulp relative to the value
    /// for normal numbers, half the smallest subnormal in absolute terms below that.
    public static func rounding(to dtype: DType) -> Tolerance {
        switch dtype {
        case .bf16: Tolerance(absolute: 0x1p-134, relative: 0x1p-8)
        case .f16: Tolerance(absolute: 0x1p-25, relative: 0x1p-11)
        case .f32: Tolerance(absolute: 0x1p-150, relative: 0x1p-24)
        default: .exact
        }
    }

    /// Whether `actual` is close enough to `expected`. NaN matches only NaN, and an infinity only
    /// the same infinity.
    public func accepts(_ actual: Double, expected: Double) -> Bool {
        if expected.isNaN || actual.isNaN { return expected.isNaN && actual.isNaN }
        if expected.isInfinite || actual.isInfinite { return expected == actual }
        return abs(actual - expected) <= absolute + relative * abs(expected)
    }
}

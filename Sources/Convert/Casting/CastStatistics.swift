/// What a cast did to the values of one tensor that a user should know about.
public struct CastStatistics: Sendable, Equatable {
    /// Finite source values that became ±inf (fp16 above 65504, bf16 at the very top of fp32).
    public var overflowToInfinity = 0
    /// Non-zero source values that became ±0.
    public var underflowToZero = 0
    /// NaN values seen (carried through as NaN).
    public var nanCount = 0

    public init() {}

    /// Whether any finite value was lost to overflow or underflow.
    public var lostValues: Bool { overflowToInfinity > 0 || underflowToZero > 0 }

    public static func += (lhs: inout CastStatistics, rhs: CastStatistics) {
        lhs.overflowToInfinity += rhs.overflowToInfinity
        lhs.underflowToZero += rhs.underflowToZero
        lhs.nanCount += rhs.nanCount
    }
}

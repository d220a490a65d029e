#include "CZooKernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define ZOO_CLONES __attribute__((target_clones("avx512bw", "avx2", "default")))
#else
#define ZOO_CLONES
#endif

// Blocks keep the 32-bit counters from wrapping; 32-bit lanes keep the vectors wide.
enum { BLOCK = 1 << 24 };

// Unaligned loads and stores; each compiles to one move, and the loops still vectorise.
static inline uint32_t loadU32(const unsigned char *bytes, size_t index) {
    uint32_t value;
    memcpy(&value, bytes + 4 * index, 4);
    return value;
}

static inline void storeU16(unsigned char *bytes, size_t index, uint16_t value) {
    memcpy(bytes + 2 * index, &value, 2);
}

ZOO_CLONES
void CZooKernels_f32ToBF16(const void *input, void *output, size_t count, CZooKernels_CastCounts *counts) {
    const unsigned char *in = input;
    unsigned char *out = output;
    for (size_t start = 0; start < count; start += BLOCK) {
        size_t end = count - start < BLOCK ? count : start + BLOCK;
        uint32_t overflow = 0, underflow = 0, nans = 0;
        for (size_t i = start; i < end; i++) {
            uint32_t bits = loadU32(in, i);
            uint32_t magnitude = bits & 0x7FFFFFFFu;
            uint32_t isNaN = magnitude > 0x7F800000u;
            uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
            uint32_t roundedMagnitude = rounded & 0x7FFFu;
            overflow += (magnitude < 0x7F800000u) & (roundedMagnitude == 0x7F80u);
            underflow += (magnitude != 0) & (roundedMagnitude == 0);
            nans += isNaN;
            storeU16(out, i, (uint16_t)(isNaN ? 0x7FC0u : rounded));
        }
        counts->overflowToInfinity += overflow;
        counts->underflowToZero += underflow;
        counts->nanCount += nans;
    }
}

static inline float asFloat(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline uint32_t asBits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

ZOO_CLONES
void CZooKernels_f32ToF16(
    const void *input, void *output, size_t count, int keepNaNPayload, CZooKernels_CastCounts *counts) {
    const unsigned char *in = input;
    unsigned char *out = output;
    // Bit-pattern algorithm after F. Giesen, "float_to_half_fast3_rtne".
    const uint32_t smallestHalfNormal = 113u << 23;        // 2^-14
    const uint32_t overflowThreshold = (127u + 16u) << 23;  // 65536: from here every value is inf or NaN
    const uint32_t subnormalMagic = ((127u - 15u) + (23u - 10u) + 1u) << 23;  // 0.5
    const uint32_t payloadMask = keepNaNPayload ? 0x3FFu : 0u;
    for (size_t start = 0; start < count; start += BLOCK) {
        size_t end = count - start < BLOCK ? count : start + BLOCK;
        uint32_t overflow = 0, underflow = 0, nans = 0;
        for (size_t i = start; i < end; i++) {
            uint32_t bits = loadU32(in, i);
            uint32_t sign = (bits >> 16) & 0x8000u;
            uint32_t magnitude = bits & 0x7FFFFFFFu;
            uint32_t mantissaOdd = (magnitude >> 13) & 1u;
            uint32_t normal = (magnitude + 0xC8000FFFu + mantissaOdd) >> 13;
            uint32_t subnormal = asBits(asFloat(magnitude) + asFloat(subnormalMagic)) - subnormalMagic;
            uint32_t special = magnitude > 0x7F800000u ? (0x7E00u | ((magnitude >> 13) & payloadMask)) : 0x7C00u;
            uint32_t result = magnitude >= overflowThreshold ? special
                : (magnitude < smallestHalfNormal ? subnormal : normal);
            uint32_t resultMagnitude = result & 0x7FFFu;
            overflow += (magnitude < 0x7F800000u) & (resultMagnitude == 0x7C00u);
            underflow += (magnitude != 0) & (resultMagnitude == 0);
            nans += magnitude > 0x7F800000u;
            storeU16(out, i, (uint16_t)(result | sign));
        }
        counts->overflowToInfinity += overflow;
        counts->underflowToZero += underflow;
        counts->nanCount += nans;
    }
}

// One loop per element size, so each memcpy has a constant size and compiles to a plain load and
// store. Consecutive output rows read neighbouring columns, so each source cache line fetched for
// one output row serves the next ones too.
#define ZOO_GATHER(SIZE)                                                                          \
    static void gather##SIZE(const unsigned char *input, size_t rows, size_t columns, size_t first, \
                             size_t count, unsigned char *output) {                               \
        for (size_t outputRow = 0; outputRow < count; outputRow++) {                              \
            const unsigned char *column = input + (first + outputRow) * SIZE;                     \
            unsigned char *target = output + outputRow * rows * SIZE;                             \
            for (size_t row = 0; row < rows; row++) {                                             \
                memcpy(target + row * SIZE, column + row * columns * SIZE, SIZE);                 \
            }                                                                                     \
        }                                                                                         \
    }
ZOO_GATHER(2)
ZOO_GATHER(4)
ZOO_GATHER(8)

void CZooKernels_gatherColumns(
    const void *input, size_t rows, size_t columns, size_t firstOutputRow, size_t outputRowCount, void *output,
    size_t elementSize) {
    switch (elementSize) {
    case 2: gather2(input, rows, columns, firstOutputRow, outputRowCount, output); break;
    case 4: gather4(input, rows, columns, firstOutputRow, outputRowCount, output); break;
    default: gather8(input, rows, columns, firstOutputRow, outputRowCount, output); break;
    }
}

// MARK: - Comparison

static inline double bitsToDouble(uint64_t bits) {
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline uint64_t doubleToBits(double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline float f16BitsToFloat(uint16_t half) {
    uint32_t sign = (uint32_t)(half >> 15) << 31;
    uint32_t exponent = (half >> 10) & 0x1Fu;
    uint32_t mantissa = half & 0x3FFu;
    if (exponent == 0x1F) return asFloat(sign | 0x7F800000u | (mantissa << 13));
    // Subnormal (or zero): mantissa * 2^-24, exact in float.
    if (exponent == 0) return (sign ? -1.0f : 1.0f) * (float)mantissa * 0x1p-24f;
    return asFloat(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

static inline size_t byteSize(CZooKernels_FloatType type) {
    switch (type) {
    case CZooKernels_F32: return 4;
    case CZooKernels_BF16:
    case CZooKernels_F16: return 2;
    case CZooKernels_F64:
    default: return 8;
    }
}

// Element `i` of a type of 32 bits or fewer at `bytes`, as the float it is exactly.
static inline __attribute__((always_inline)) float loadNarrow(
    const unsigned char *bytes, CZooKernels_FloatType type, size_t i) {
    switch (type) {
    case CZooKernels_BF16: {
        uint16_t half;
        memcpy(&half, bytes + 2 * i, 2);
        return asFloat((uint32_t)half << 16);
    }
    case CZooKernels_F16: {
        uint16_t half;
        memcpy(&half, bytes + 2 * i, 2);
        return f16BitsToFloat(half);
    }
    case CZooKernels_F32:
    default: {
        float value;
        memcpy(&value, bytes + 4 * i, 4);
        return value;
    }
    }
}

// Element `i` of `type` at `bytes`, widened exactly to double; with `type` a constant at the call
// the branches fold away and the load vectorises.
static inline __attribute__((always_inline)) double loadWide(
    const unsigned char *bytes, CZooKernels_FloatType type, size_t i) {
    if (type != CZooKernels_F64) return loadNarrow(bytes, type, i);
    double value;
    memcpy(&value, bytes + 8 * i, 8);
    return value;
}

/// Widens `count` elements of `type` at `values` exactly into `out`, one loop per type.
ZOO_CLONES
static void widenBlock(const void *values, CZooKernels_FloatType type, size_t count, double *out) {
    const unsigned char *bytes = values;
    switch (type) {
    case CZooKernels_F32:
        for (size_t i = 0; i < count; i++) out[i] = loadWide(bytes, CZooKernels_F32, i);
        break;
    case CZooKernels_BF16:
        for (size_t i = 0; i < count; i++) out[i] = loadWide(bytes, CZooKernels_BF16, i);
        break;
    case CZooKernels_F16:
        for (size_t i = 0; i < count; i++) out[i] = loadWide(bytes, CZooKernels_F16, i);
        break;
    case CZooKernels_F64:
    default:
        memcpy(out, bytes, 8 * count);
        break;
    }
}

enum { COMPARE_BLOCK = 1024 };

// The errors of one block of widened pairs; `narrow` (both sides 32 bits or fewer) is a constant
// at each call, so each call site compiles to a loop without the other's division.
typedef struct {
    double absolute, relative, ulp;
    uint64_t rejected, nonFinite;
} BlockErrors;

static inline __attribute__((always_inline)) BlockErrors blockErrors(
    const unsigned char *actual, CZooKernels_FloatType actualType, const unsigned char *expected,
    CZooKernels_FloatType expectedType, size_t n, double absoluteTolerance, double relativeTolerance,
    int ulpMantissaBits, int64_t minBiased, int narrow) {
    // Non-negative doubles order as their bit patterns do: the maxima are integer maxima,
    // a reduction the vectorizer handles (it leaves floating-point max reductions alone).
    uint64_t blockAbsolute = 0, blockRelative = 0, blockULP = 0;
    int64_t blockRejected = 0, blockNonFinite = 0;
    // Branch-free over finite pairs so the loop vectorizes; non-finite pairs are rare and
    // settled by the caller, only when one is present.
    for (size_t i = 0; i < n; i++) {
        double a = loadWide(actual, actualType, i), e = loadWide(expected, expectedType, i);
        double error = fabs(a - e);
        double magnitude = fabs(e);
        int64_t finite = (fabs(a) <= 0x1.fffffffffffffp+1023) & (magnitude <= 0x1.fffffffffffffp+1023);
        blockNonFinite += 1 - finite;
        double counted = finite ? error : 0;
        blockRejected += finite & (error > absoluteTolerance + relativeTolerance * magnitude);
        // The relative error is reported, never judged: for values of 32 bits or fewer a float
        // quotient (7 digits, a sixth of the cost of a double division, which dominated this
        // loop) is plenty; a huge mismatch may read as inf.
        double relative = narrow ? (double)((float)counted / (float)magnitude) : counted / magnitude;
        uint64_t absoluteBits = doubleToBits(counted);
        uint64_t relativeBits = doubleToBits(magnitude > 0 ? relative : 0);
        blockAbsolute = absoluteBits > blockAbsolute ? absoluteBits : blockAbsolute;
        blockRelative = relativeBits > blockRelative ? relativeBits : blockRelative;
        int64_t biased = (int64_t)((doubleToBits(e) >> 52) & 0x7FF);
        biased = biased < minBiased ? minBiased : biased;
        // 1 / ulp, as a power of two built from its exponent: 2^(mantissa bits - exponent).
        double inverseULP = bitsToDouble((uint64_t)(2046 - biased + ulpMantissaBits) << 52);
        uint64_t ulpBits = doubleToBits(counted * inverseULP);
        blockULP = ulpBits > blockULP ? ulpBits : blockULP;
    }
    BlockErrors result = {bitsToDouble(blockAbsolute), bitsToDouble(blockRelative), bitsToDouble(blockULP),
                          (uint64_t)blockRejected, (uint64_t)blockNonFinite};
    return result;
}

// The largest float at most `value` (0 below 2^-100: no float arithmetic here goes subnormal).
static inline float floatAtMost(double value) {
    if (!(value >= 0x1p-100)) return 0;
    float narrowed = (float)value;
    return (double)narrowed > value ? nextafterf(narrowed, 0) : narrowed;
}

// `blockErrors` in float lanes (twice as many per vector as doubles), for a pair of types of 32
// bits or fewer: returns 1 and fills `result` with the same figures the double pass gives, when
// every pair of the block is one it can settle exactly; else 0, and the caller takes the double
// pass. It settles a pair when both values are zero or within 2^-100..2^100 in magnitude (so
// nothing below goes subnormal or overflows) and the error is inside the bound with a margin of
// 2^-20 of it (the bound's float rounding is far smaller; a correct bf16 or fp16 rounding uses
// at most 99.6% of its bound). The error is then exact in float (Sterbenz: the two values are
// within 1% of each other), as are the ULP scaling (a power of two) and the relative error, which
// the double pass computes in float too.
static inline __attribute__((always_inline)) int fastBlockErrors(
    const unsigned char *actual, CZooKernels_FloatType actualType, const unsigned char *expected,
    CZooKernels_FloatType expectedType, size_t n, float absoluteTolerance, float relativeTolerance,
    int ulpMantissaBits, int ulpMinExponent, BlockErrors *result) {
    uint32_t blockAbsolute = 0, blockRelative = 0, blockULP = 0, unsettled = 0;
    for (size_t i = 0; i < n; i++) {
        float a = loadNarrow(actual, actualType, i), e = loadNarrow(expected, expectedType, i);
        float error = fabsf(a - e), magnitude = fabsf(e), size = fabsf(a);
        uint32_t inRange = (magnitude == 0 || (magnitude >= 0x1p-100f && magnitude <= 0x1p100f)) &
                           (size == 0 || (size >= 0x1p-100f && size <= 0x1p100f));
        float bound = absoluteTolerance + relativeTolerance * magnitude;
        uint32_t inside = error <= bound * (1 - 0x1p-20f);
        // A zero expected value scales its ULP past float's range: the double pass settles it.
        uint32_t scalable = magnitude > 0 || error == 0;
        unsettled |= (inRange & inside & scalable) ^ 1u;
        float relative = magnitude > 0 ? error / magnitude : 0;
        int32_t exponent = (int32_t)((asBits(e) >> 23) & 0xFFu) - 127;
        exponent = exponent < ulpMinExponent ? ulpMinExponent : exponent;
        float inverseULP = asFloat((uint32_t)(127 + ulpMantissaBits - exponent) << 23);
        // (A zero error stays +0: for a zero expected value the scale above is not a float.)
        uint32_t ulpBits = error > 0 ? asBits(error * inverseULP) : 0;
        uint32_t absoluteBits = asBits(error), relativeBits = asBits(relative);
        blockAbsolute = absoluteBits > blockAbsolute ? absoluteBits : blockAbsolute;
        blockRelative = relativeBits > blockRelative ? relativeBits : blockRelative;
        blockULP = ulpBits > blockULP ? ulpBits : blockULP;
    }
    if (unsettled) return 0;
    BlockErrors errors = {asFloat(blockAbsolute), asFloat(blockRelative), asFloat(blockULP), 0, 0};
    *result = errors;
    return 1;
}

// `blockErrors` of `n` elements from `actual` and `expected` (at their first element), with the
// pair of types the conversions produce spelled out: each case compiles to one loop that loads
// and widens in registers (a pass that widened into arrays first was a third of the comparison,
// measured with `perf`). Other pairs (fp64) go through `widened`, `COMPARE_BLOCK` doubles each.
static inline __attribute__((always_inline)) BlockErrors blockErrorsOf(
    const unsigned char *actual, CZooKernels_FloatType actualType, const unsigned char *expected,
    CZooKernels_FloatType expectedType, size_t n, double absoluteTolerance, double relativeTolerance,
    int ulpMantissaBits, int64_t minBiased, float floatAbsolute, float floatRelative, double *widenedActual,
    double *widenedExpected) {
#define ZOO_PAIR(A, E)                                                                                     \
    if (actualType == A && expectedType == E) {                                                            \
        BlockErrors settled;                                                                               \
        if (fastBlockErrors(actual, A, expected, E, n, floatAbsolute, floatRelative, ulpMantissaBits,      \
                            (int)(minBiased - 1023), &settled))                                            \
            return settled;                                                                                \
        return blockErrors(actual, A, expected, E, n, absoluteTolerance, relativeTolerance, ulpMantissaBits, \
                           minBiased, 1);                                                                  \
    }
    ZOO_PAIR(CZooKernels_BF16, CZooKernels_F32)
    ZOO_PAIR(CZooKernels_F16, CZooKernels_F32)
    ZOO_PAIR(CZooKernels_F32, CZooKernels_F32)
    ZOO_PAIR(CZooKernels_BF16, CZooKernels_BF16)
    ZOO_PAIR(CZooKernels_F16, CZooKernels_F16)
    ZOO_PAIR(CZooKernels_F32, CZooKernels_BF16)
    ZOO_PAIR(CZooKernels_F32, CZooKernels_F16)
    ZOO_PAIR(CZooKernels_BF16, CZooKernels_F16)
    ZOO_PAIR(CZooKernels_F16, CZooKernels_BF16)
#undef ZOO_PAIR
    widenBlock(actual, actualType, n, widenedActual);
    widenBlock(expected, expectedType, n, widenedExpected);
    const unsigned char *a = (const unsigned char *)widenedActual, *e = (const unsigned char *)widenedExpected;
    int narrow = actualType != CZooKernels_F64 && expectedType != CZooKernels_F64;
    return narrow ? blockErrors(a, CZooKernels_F64, e, CZooKernels_F64, n, absoluteTolerance, relativeTolerance,
                                ulpMantissaBits, minBiased, 1)
                  : blockErrors(a, CZooKernels_F64, e, CZooKernels_F64, n, absoluteTolerance, relativeTolerance,
                                ulpMantissaBits, minBiased, 0);
}

ZOO_CLONES
void CZooKernels_compare(
    const void *actual, CZooKernels_FloatType actualType, const void *expected, CZooKernels_FloatType expectedType,
    size_t count, double absoluteTolerance, double relativeTolerance, int ulpMantissaBits, int ulpMinExponent,
    uint64_t firstIndex, CZooKernels_ErrorStats *stats) {
    double a[COMPARE_BLOCK], e[COMPARE_BLOCK];
    double maxAbsolute = stats->maxAbsolute, maxRelative = stats->maxRelative, maxULP = stats->maxULP;
    int wantULP = ulpMantissaBits >= 0;
    int64_t minBiased = (int64_t)ulpMinExponent + 1023;
    // The bound in float for `fastBlockErrors`, never above the exact one.
    float floatAbsolute = floatAtMost(absoluteTolerance), floatRelative = floatAtMost(relativeTolerance);
    for (size_t start = 0; start < count; start += COMPARE_BLOCK) {
        size_t n = count - start < COMPARE_BLOCK ? count - start : COMPARE_BLOCK;
        const unsigned char *actualBlock = (const unsigned char *)actual + start * byteSize(actualType);
        const unsigned char *expectedBlock = (const unsigned char *)expected + start * byteSize(expectedType);
        BlockErrors block = blockErrorsOf(
            actualBlock, actualType, expectedBlock, expectedType, n, absoluteTolerance, relativeTolerance,
            ulpMantissaBits, minBiased, floatAbsolute, floatRelative, a, e);
        // The rare pairs that need a second look (non-finite, rejected) are widened for it.
        if (block.nonFinite || block.rejected) {
            widenBlock(actualBlock, actualType, n, a);
            widenBlock(expectedBlock, expectedType, n, e);
        }
        maxAbsolute = fmax(maxAbsolute, block.absolute);
        maxRelative = fmax(maxRelative, block.relative);
        if (wantULP) maxULP = fmax(maxULP, block.ulp);
        uint64_t rejected = block.rejected;
        if (block.nonFinite) {
            for (size_t i = 0; i < n; i++) {
                int finite = isfinite(a[i]) && isfinite(e[i]);
                if (finite) continue;
                int bothNaN = isnan(a[i]) && isnan(e[i]);
                int accepted = (isnan(a[i]) || isnan(e[i])) ? bothNaN : a[i] == e[i];
                rejected += !accepted;
            }
        }
        if (rejected) {
            stats->mismatches += rejected;
            if (stats->firstMismatch < 0) {
                for (size_t i = 0; i < n; i++) {
                    int finite = isfinite(a[i]) && isfinite(e[i]);
                    int accepted = finite ? fabs(a[i] - e[i]) <= absoluteTolerance + relativeTolerance * fabs(e[i])
                                          : ((isnan(a[i]) || isnan(e[i])) ? (isnan(a[i]) && isnan(e[i])) : a[i] == e[i]);
                    if (!accepted) {
                        stats->firstMismatch = (int64_t)(firstIndex + start + i);
                        break;
                    }
                }
            }
        }
    }
    stats->maxAbsolute = maxAbsolute;
    stats->maxRelative = maxRelative;
    stats->maxULP = maxULP;
}

// One float to fp16 bits, round to nearest even, NaN payload's top kept (as Swift's Float16(_:)).
static inline uint16_t f32ToF16Bits(float value) {
    uint32_t bits = asBits(value);
    uint16_t half;
    CZooKernels_CastCounts ignored = {0, 0, 0};
    CZooKernels_f32ToF16(&bits, &half, 1, 1, &ignored);
    return half;
}

ZOO_CLONES
int64_t CZooKernels_quantizeQ8_0(const float *input, size_t blocks, void *output) {
    int64_t firstNonFinite = -1;
    for (size_t block = 0; block < blocks; block++) {
        const float *x = input + block * 32;
        uint8_t *out = (uint8_t *)output + block * 34;
        float amax = 0;
        int nonFinite = 0;
        for (int i = 0; i < 32; i++) {
            float magnitude = fabsf(x[i]);
            nonFinite |= !(magnitude <= 3.40282347e38f);  // NaN or infinity
            amax = magnitude > amax ? magnitude : amax;
        }
        if (nonFinite) {
            // numpy's max propagates NaN (the comparison above does not): find the first one.
            for (int i = 0; i < 32; i++) {
                if (x[i] != x[i]) amax = NAN;
                if (firstNonFinite < 0 && !(fabsf(x[i]) <= 3.40282347e38f)) firstNonFinite = (int64_t)(block * 32 + i);
            }
        }
        float d = amax / 127.0f;
        float inverse = d == 0 ? 0.0f : 1.0f / d;
        uint16_t scale = f32ToF16Bits(d);
        out[0] = (uint8_t)(scale & 0xFF);
        out[1] = (uint8_t)(scale >> 8);
        for (int i = 0; i < 32; i++) {
            float scaled = x[i] * inverse;
            // Half away from zero, exactly: the fraction `scaled - t` is exact for |scaled| < 2^23.
            float t = truncf(scaled);
            float rounded = fabsf(scaled - t) >= 0.5f ? t + copysignf(1.0f, scaled) : t;
            // Not finite (or beyond 32 bits): 0, the low byte of x86's "integer indefinite".
            int finite = fabsf(scaled) < 2147483648.0f;
            out[2 + i] = finite ? (uint8_t)((uint32_t)(int32_t)rounded & 0xFFu) : 0;
        }
    }
    return firstNonFinite;
}

ZOO_CLONES
void CZooKernels_dequantizeQ8_0(const void *input, size_t blocks, float *output) {
    for (size_t block = 0; block < blocks; block++) {
        const uint8_t *in = (const uint8_t *)input + block * 34;
        float d = f16BitsToFloat((uint16_t)(in[0] | (in[1] << 8)));
        float values[32];
        for (int i = 0; i < 32; i++) values[i] = (float)(int8_t)in[2 + i] * d;
        memcpy(output + block * 32, values, sizeof values);
    }
}

ZOO_CLONES
void CZooKernels_f16ToF32(const void *input, void *output, size_t count) {
    // Exact widening (Giesen, "half_to_float"): rebias normals, renormalise subnormals.
    const uint32_t shiftedExponent = 0x7C00u << 13;
    const float renormalizeMagic = asFloat(113u << 23);
    const unsigned char *in = input;
    unsigned char *out = output;
    for (size_t i = 0; i < count; i++) {
        uint16_t half;
        memcpy(&half, in + 2 * i, 2);
        uint32_t shifted = ((uint32_t)half & 0x7FFFu) << 13;
        uint32_t exponent = shifted & shiftedExponent;
        uint32_t rebiased = shifted + ((127u - 15u) << 23);
        uint32_t infOrNaN = (rebiased + ((128u - 16u) << 23)) | ((shifted & 0x7FE000u) == 0 ? 0 : 0x400000u);
        uint32_t subnormal = asBits(asFloat(rebiased + (1u << 23)) - renormalizeMagic);
        uint32_t magnitude = exponent == shiftedExponent ? infOrNaN : (exponent == 0 ? subnormal : rebiased);
        uint32_t bits = magnitude | (((uint32_t)half & 0x8000u) << 16);
        memcpy(out + 4 * i, &bits, 4);
    }
}

ZOO_CLONES
void CZooKernels_bf16ToF32(const void *input, void *output, size_t count) {
    const unsigned char *in = input;
    unsigned char *out = output;
    for (size_t i = 0; i < count; i++) {
        uint16_t half;
        memcpy(&half, in + 2 * i, 2);
        uint32_t bits = (uint32_t)half << 16;
        memcpy(out + 4 * i, &bits, 4);
    }
}

void CZooKernels_float8ToF32(const void *input, void *output, size_t count, const uint32_t *table) {
    const unsigned char *in = input;
    unsigned char *out = output;
    for (size_t i = 0; i < count; i++) memcpy(out + 4 * i, &table[in[i]], 4);
}

ZOO_CLONES
void CZooKernels_f32ToF64(const void *input, void *output, size_t count) {
    const unsigned char *in = input;
    unsigned char *out = output;
    for (size_t i = 0; i < count; i++) {
        float value;
        memcpy(&value, in + 4 * i, 4);
        double wide = (double)value;
        memcpy(out + 8 * i, &wide, 8);
    }
}

ZOO_CLONES
void CZooKernels_f64ToF32(const void *input, void *output, size_t count, CZooKernels_CastCounts *counts) {
    const unsigned char *in = input;
    unsigned char *out = output;
    for (size_t start = 0; start < count; start += BLOCK) {
        size_t end = count - start < BLOCK ? count : start + BLOCK;
        uint32_t overflow = 0, underflow = 0, nans = 0;
        for (size_t i = start; i < end; i++) {
            double value;
            memcpy(&value, in + 8 * i, 8);
            float narrowed = (float)value;
            overflow += isfinite(value) && isinf(narrowed);
            underflow += value != 0 && narrowed == 0;
            nans += isnan(value) != 0;
            memcpy(out + 4 * i, &narrowed, 4);
        }
        counts->overflowToInfinity += overflow;
        counts->underflowToZero += underflow;
        counts->nanCount += nans;
    }
}

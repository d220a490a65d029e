#ifndef CZOOKERNELS_H
#define CZOOKERNELS_H

#include <stddef.h>
#include <stdint.h>

// The two narrowing casts every conversion runs over the whole model. They are C so the compiler
// can build an AVX2 and an AVX-512 clone of each loop and pick one at load time for the CPU it
// runs on (target_clones); Swift code is compiled for the baseline x86-64 only (SSE2).
// Both match torch's CPU casts bit for bit; see FloatCast.swift for the rounding rules.

/// Counts of what a narrowing cast did to the values, added to by each call.
typedef struct {
    uint64_t overflowToInfinity;
    uint64_t underflowToZero;
    uint64_t nanCount;
} CZooKernels_CastCounts;

/// fp32 -> bf16, round to nearest even, every NaN -> 0x7FC0. `input` holds `count` fp32 values and
/// `output` receives `count` bf16 ones, at any alignment (a tensor in a mapped file need not be
/// aligned for its element type).
void CZooKernels_f32ToBF16(const void *input, void *output, size_t count, CZooKernels_CastCounts *counts);

/// fp32 -> fp16, round to nearest even, overflow to infinity, subnormals kept. NaN keeps its sign
/// and, when keepNaNPayload is non-zero, the top of its payload.
void CZooKernels_f32ToF16(
    const void *input, void *output, size_t count, int keepNaNPayload, CZooKernels_CastCounts *counts);

/// Writes output rows [firstOutputRow, firstOutputRow + outputRowCount) of the transpose of the
/// row-major [rows, columns] matrix at input (elements of elementSize bytes: 2, 4 or 8) to output,
/// each output row `rows` elements long. Neither pointer needs to be aligned. In C for the same
/// reason as the casts, and because it copies elements by memcpy, which any alignment allows.
void CZooKernels_gatherColumns(
    const void *input, size_t rows, size_t columns, size_t firstOutputRow, size_t outputRowCount, void *output,
    size_t elementSize);

/// Element types the comparison kernel reads.
typedef enum {
    CZooKernels_F32 = 0,
    CZooKernels_BF16 = 1,
    CZooKernels_F16 = 2,
    CZooKernels_F64 = 3,
} CZooKernels_FloatType;

/// Running error statistics of comparing a tensor with its reference, added to by each call.
typedef struct {
    double maxAbsolute;
    double maxRelative;
    /// In units in the last place of the narrower format at the reference value (see ulpMantissaBits).
    double maxULP;
    /// Elements outside the tolerance, and the index of the first (-1: none yet).
    uint64_t mismatches;
    int64_t firstMismatch;
} CZooKernels_ErrorStats;

/// Compares `count` elements of `actual` with `expected` (each of its own float type), both widened
/// exactly to double: counts the elements outside `|a - e| <= absoluteTolerance + relativeTolerance
/// * |e|` (NaN matches only NaN, an infinity only the same infinity), and tracks the largest absolute,
/// relative and ULP errors over finite pairs. `firstIndex` is the index of element 0 in the tensor,
/// for `firstMismatch`. `ulpMantissaBits` < 0 skips the ULP statistic.
void CZooKernels_compare(
    const void *actual, CZooKernels_FloatType actualType, const void *expected, CZooKernels_FloatType expectedType,
    size_t count, double absoluteTolerance, double relativeTolerance, int ulpMantissaBits, int ulpMinExponent,
    uint64_t firstIndex, CZooKernels_ErrorStats *stats);

/// The exact widenings and fp64 -> fp32, on little-endian values at any alignment (each element
/// is loaded and stored with memcpy, which the compiler turns into plain vector moves).
/// fp16 -> fp32 sets the quiet bit of a NaN, as torch (and vcvtph2ps) do.
void CZooKernels_f16ToF32(const void *input, void *output, size_t count);
void CZooKernels_bf16ToF32(const void *input, void *output, size_t count);
/// 8-bit floats through a 256-entry table of fp32 bit patterns.
void CZooKernels_float8ToF32(const void *input, void *output, size_t count, const uint32_t *table);
void CZooKernels_f32ToF64(const void *input, void *output, size_t count);
/// Round to nearest even; overflow (finite to inf), underflow (non-zero to 0) and NaNs counted.
void CZooKernels_f64ToF32(const void *input, void *output, size_t count, CZooKernels_CastCounts *counts);

/// ggml's Q8_0 quantization of `blocks` blocks of 32 floats into 34-byte blocks (fp16 scale
/// `d = max|x| / 127`, little-endian, then `round(x * (1 / d))` as int8, rounded half away from
/// zero), bit for bit as ggml's `quantize_row_q8_0_ref` and gguf-py compute it (see Q8_0.swift for
/// non-finite inputs). Returns the index of the first NaN or infinity in `input`, or -1.
int64_t CZooKernels_quantizeQ8_0(const float *input, size_t blocks, void *output);

/// The values of `blocks` Q8_0 blocks: `q * d` in float32. Neither pointer needs to be aligned.
void CZooKernels_dequantizeQ8_0(const void *input, size_t blocks, float *output);

#endif

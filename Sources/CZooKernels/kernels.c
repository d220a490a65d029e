#include "CZooKernels.h"

#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define ZOO_CLONES __attribute__((target_clones("avx512bw", "avx2", "default")))
#else
#define ZOO_CLONES
#endif

// Blocks keep the 32-bit counters from wrapping; 32-bit lanes keep the vectors wide.
enum { BLOCK = 1 << 24 };

ZOO_CLONES
void CZooKernels_f32ToBF16(const uint32_t *input, uint16_t *output, size_t count, CZooKernels_CastCounts *counts) {
    for (size_t start = 0; start < count; start += BLOCK) {
        size_t end = count - start < BLOCK ? count : start + BLOCK;
        uint32_t overflow = 0, underflow = 0, nans = 0;
        for (size_t i = start; i < end; i++) {
            uint32_t bits = input[i];
            uint32_t magnitude = bits & 0x7FFFFFFFu;
            uint32_t isNaN = magnitude > 0x7F800000u;
            uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
            uint32_t roundedMagnitude = rounded & 0x7FFFu;
            overflow += (magnitude < 0x7F800000u) & (roundedMagnitude == 0x7F80u);
            underflow += (magnitude != 0) & (roundedMagnitude == 0);
            nans += isNaN;
            output[i] = (uint16_t)(isNaN ? 0x7FC0u : rounded);
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
    const uint32_t *input, uint16_t *output, size_t count, int keepNaNPayload, CZooKernels_CastCounts *counts) {
    // Bit-pattern algorithm after F. Giesen, "float_to_half_fast3_rtne".
    const uint32_t smallestHalfNormal = 113u << 23;        // 2^-14
    const uint32_t overflowThreshold = (127u + 16u) << 23;  // 65536: from here every value is inf or NaN
    const uint32_t subnormalMagic = ((127u - 15u) + (23u - 10u) + 1u) << 23;  // 0.5
    const uint32_t payloadMask = keepNaNPayload ? 0x3FFu : 0u;
    for (size_t start = 0; start < count; start += BLOCK) {
        size_t end = count - start < BLOCK ? count : start + BLOCK;
        uint32_t overflow = 0, underflow = 0, nans = 0;
        for (size_t i = start; i < end; i++) {
            uint32_t bits = input[i];
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
            output[i] = (uint16_t)(result | sign);
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

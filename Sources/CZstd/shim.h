// Zstandard (apt: libzstd-dev), for compressed checkpoint files (`*.zst`).
#include <zstd.h>

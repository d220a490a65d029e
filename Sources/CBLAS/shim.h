// OpenBLAS (apt: libopenblas-dev) through its CBLAS interface: the matrix products of the
// reference T5 forward pass.
#include <cblas.h>

// OpenBLAS (apt: libopenblas-dev) through its CBLAS interface: the matrix products of the
// reference T5 forward pass.
#include <cblas.h>
#include <dlfcn.h>

// Makes every later BLAS call run on its calling thread alone, and stops OpenBLAS's worker
// threads. zoo never asks OpenBLAS to split a product (its passes already fill the cores), but a
// pthreads OpenBLAS starts its workers when it is loaded, and each spins in sched_yield for about
// 2^28 cycles before it sleeps: a tenth of a CPU-second of every zoo process. The shutdown entry
// point (the one OpenBLAS's own fork handler calls) is looked up at run time, so an OpenBLAS
// built without it (OpenMP, serial) is simply left as it is.
static inline void zoo_blas_use_calling_threads_only(void) {
    openblas_set_num_threads(1);
    void *process = dlopen(NULL, RTLD_LAZY);
    if (process == NULL) return;
    int (*shutdown_workers)(void) = (int (*)(void))dlsym(process, "blas_thread_shutdown_");
    if (shutdown_workers != NULL) shutdown_workers();
    dlclose(process);
}

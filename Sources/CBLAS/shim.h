// OpenBLAS (apt: libopenblas-dev) through its CBLAS interface: the matrix products of the
// reference T5 forward pass.
#include <cblas.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <strings.h>

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

// The kernel set OpenBLAS's x86-64 CPUs of these features run: "SkylakeX" (AVX-512), "Haswell"
// (AVX2 and FMA), or NULL.
static inline const char *zoo_blas_kernels_for_this_cpu(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

// An OpenBLAS built for every x86-64 CPU (DYNAMIC_ARCH, as Debian's is) picks its kernels by the
// CPU's family and model number and gives a model newer than its table the SSE3 kernels of
// "Prescott": Debian's 0.3.21 does so on an Emerald Rapids Xeon (family 6, model 207), where
// zoo's forward pass then took 2.1x as long as with the AVX-512 kernels (measured). When OpenBLAS
// fell back that way on a CPU with AVX2 or AVX-512, and the user has not chosen the kernels
// (OPENBLAS_CORETYPE), this re-initialises it with the set those features run, through OpenBLAS's
// own selection (its entry points looked up at run time: an OpenBLAS without them, built for one
// CPU, is left as it is). Returns the kernels now in use (OpenBLAS's name for them), or NULL when
// the library does not say. Call before any product, while no other thread reads the
// environment (the choice passes through OPENBLAS_CORETYPE, set and then removed).
static inline const char *zoo_blas_choose_kernels(void) {
    void *process = dlopen(NULL, RTLD_LAZY);
    if (process == NULL) return NULL;
    char *(*corename)(void) = (char *(*)(void))dlsym(process, "openblas_get_corename");
    void (*forget)(void) = (void (*)(void))dlsym(process, "gotoblas_dynamic_quit");
    void (*select)(void) = (void (*)(void))dlsym(process, "gotoblas_dynamic_init");
    const char *kernels = zoo_blas_kernels_for_this_cpu();
    if (corename != NULL && forget != NULL && select != NULL && kernels != NULL &&
        getenv("OPENBLAS_CORETYPE") == NULL && strcasecmp(corename(), "Prescott") == 0) {
        setenv("OPENBLAS_CORETYPE", kernels, 0);
        forget();
        select();
        unsetenv("OPENBLAS_CORETYPE");
    }
    const char *chosen = corename != NULL ? corename() : NULL;
    dlclose(process);
    return chosen;
}

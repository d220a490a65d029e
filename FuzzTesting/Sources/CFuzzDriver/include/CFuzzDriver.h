#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Defined by each harness in Swift (`@_cdecl("LLVMFuzzerTestOneInput")`).
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/// libFuzzer's entry point for programs that bring their own `main` (libclang_rt.fuzzer).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// Runs libFuzzer on the harness's `LLVMFuzzerTestOneInput` with the process's command line;
/// returns its exit status.
///
/// Why not libFuzzer's own `main`: SwiftPM links an executable with `--defsym main=<Module>_main`,
/// which replaces it (and a `-parse-as-library` harness has no `<Module>_main` to link), while a
/// C `main` here collides with libFuzzer's. So each harness's top-level code calls this.
int CFuzzDriver_run(int argc, char **argv);

#endif

#include "CFuzzDriver.h"

int CFuzzDriver_run(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

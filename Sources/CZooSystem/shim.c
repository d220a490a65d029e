#include "CZooSystem.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int CZooSystem_lowerThisThreadsPriority(int niceness) {
#ifdef __linux__
    return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness);
#else
    (void)niceness;
    return 0;
#endif
}

// The registered mappings, read lock-free by the signal handler. A slot is free while its start
// is 0; its end is published after its start and cleared before it, so the handler never sees a
// range that is not (or no longer) a mapping.
enum { MAPPING_SLOTS = 4096 };
static _Atomic uintptr_t mappingStart[MAPPING_SLOTS];
static _Atomic uintptr_t mappingEnd[MAPPING_SLOTS];

static _Atomic int faultSlot = -1;
static _Atomic size_t faultOffset;
static int notifyPipe = -1;
static struct sigaction previousAction;

int CZooSystem_registerMapping(const void *start, size_t length) {
    uintptr_t begin = (uintptr_t)start;
    if (begin == 0 || length == 0) return -1;
    for (int slot = 0; slot < MAPPING_SLOTS; slot++) {
        uintptr_t empty = 0;
        if (atomic_compare_exchange_strong(&mappingStart[slot], &empty, begin)) {
            atomic_store(&mappingEnd[slot], begin + length);
            return slot;
        }
    }
    return -1;
}

void CZooSystem_unregisterMapping(int slot) {
    if (slot < 0 || slot >= MAPPING_SLOTS) return;
    atomic_store(&mappingEnd[slot], 0);
    atomic_store(&mappingStart[slot], 0);
}

static void onBusError(int signalNumber, siginfo_t *info, void *context) {
    (void)context;
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int slot = 0; slot < MAPPING_SLOTS; slot++) {
        uintptr_t begin = atomic_load(&mappingStart[slot]);
        uintptr_t end = atomic_load(&mappingEnd[slot]);
        if (begin == 0 || address < begin || address >= end) continue;
        int none = -1;
        if (atomic_compare_exchange_strong(&faultSlot, &none, slot)) atomic_store(&faultOffset, address - begin);
        char byte = 1;
        ssize_t written = write(notifyPipe, &byte, 1);
        (void)written;  // a full pipe already holds a notification
        // The access cannot be completed: this thread waits for the reporter to end the process.
        for (;;) pause();
    }
    // Not a file zoo mapped: a bug. Returning retries the access under the handler that was
    // there before (the Swift runtime's backtracer, or the default action).
    sigaction(signalNumber, &previousAction, NULL);
}

int CZooSystem_installBusErrorGuard(void) {
    int ends[2];
    // Non-blocking: the handler must never wait on a full pipe (one byte already says enough).
    if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    notifyPipe = ends[1];
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = onBusError;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previousAction) != 0) {
        close(ends[0]);
        close(ends[1]);
        notifyPipe = -1;
        return -1;
    }
    return ends[0];
}

void CZooSystem_firstBusError(int *slot, size_t *offset) {
    *slot = atomic_load(&faultSlot);
    *offset = atomic_load(&faultOffset);
}

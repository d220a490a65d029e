#ifndef CZOOSYSTEM_H
#define CZOOSYSTEM_H

// Linux calls that Swift's Glibc module does not import because glibc declares them only under
// _GNU_SOURCE (static inline wrappers prefixed with the module name), and the bus-error guard,
// which must be C: it runs inside a signal handler.

#include <stddef.h>

#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>

/// Starts writeback of a written file range without waiting for it (sync_file_range with
/// SYNC_FILE_RANGE_WRITE). Returns 0, or -1 with errno set.
static inline int CZooSystem_startWriteback(int fd, long long offset, long long length) {
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
}

#else
static inline int CZooSystem_startWriteback(int fd, long long offset, long long length) {
    (void)fd; (void)offset; (void)length;
    return 0;
}
#endif

/// Makes the calling thread `niceness` nicer (on Linux a nice value belongs to a thread, and
/// setpriority with its id sets it; elsewhere nothing happens). Returns 0, or -1 with errno set.
/// In shim.c: <sys/resource.h> under _GNU_SOURCE declares an enum that clashes with Glibc's
/// module when included from this header.
int CZooSystem_lowerThisThreadsPriority(int niceness);

// MARK: - Files truncated while mapped

/// Records [start, start + length) as the mapping of a file, so that a bus error inside it (the
/// file was truncated while mapped, and a page past its new end was touched) is reported instead
/// of ending the process. Returns the mapping's slot (>= 0), or -1 when every slot is taken (the
/// mapping is then unguarded). Safe to call from any thread.
int CZooSystem_registerMapping(const void *start, size_t length);

/// Forgets the mapping in `slot` (from `CZooSystem_registerMapping`); call before unmapping it.
void CZooSystem_unregisterMapping(int slot);

/// Installs the SIGBUS handler and returns the read end of its notification pipe (or -1 with
/// errno). On a bus error inside a registered mapping the handler records the slot and the byte
/// offset (of the first such error only), writes one byte to the pipe (whose reader reports the
/// error and ends the process) and parks the faulting thread for good. A bus error anywhere else
/// goes to the handler that was installed before (the Swift runtime's backtracer, or the default).
int CZooSystem_installBusErrorGuard(void);

/// The slot and offset of the first bus error inside a registered mapping; the slot is -1 if
/// there was none.
void CZooSystem_firstBusError(int *slot, size_t *offset);

#endif

#ifndef CZOOSYSTEM_H
#define CZOOSYSTEM_H

// Linux calls that Swift's Glibc module does not import because glibc declares them only under
// _GNU_SOURCE. Each gets a static inline wrapper prefixed with the module name.

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

#endif

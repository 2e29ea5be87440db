/* Whole reads and writes on a file descriptor. */
#pragma once

#include <stddef.h>

/* Reads all of fd into a NUL-terminated buffer, at most max bytes (-EFBIG beyond). */
int read_all(int fd, size_t max, char **ret, size_t *ret_len);
/* Writes all of data, however many write() calls it takes; -errno. */
int write_all(int fd, const void *data, size_t len);

/* cmocka fixtures shared by the unit test programs: a private temporary directory per test. */
#pragma once
#include <stddef.h>

/* The directory of the running test, set by test_dir_make. */
extern char test_dir[256];

/* Setup: a new empty directory /tmp/ucni-unit.XXXXXX, mode 0700, in test_dir. */
int test_dir_make(void **state);
/* Teardown: test_dir and all it holds, also what a test left without write permission. */
int test_dir_remove(void **state);
/* "test_dir/NAME" into BUF. */
void path_of(char *buf, size_t len, const char *name);
/* The contents of the file PATH (at most 64 MiB), NUL-terminated and malloc'd; NULL when
 * it cannot be read. */
char *slurp(const char *path);
/* This process's stderr goes into the file PATH (made anew) until stderr_restore(). */
void stderr_to(const char *path);
void stderr_restore(void);

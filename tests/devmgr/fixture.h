/* What the devmgr unit tests share: a private work directory under /tmp and the fake
 * sysfs generator (tests/fixtures/mkfakesysfs) of the same build. */
#pragma once

#include <stdarg.h>

extern char fx_workdir[256];

/* Makes the work directory /tmp/devmgr-TAG.XXXXXX and finds the generator beside this
 * test's binary (<build>/tests/devmgr/../fixtures); 0, or -1 with nothing made. */
int fx_setup(const char *tag);
/* Removes the work directory and everything in it; 0 or -1. */
int fx_teardown(void);
/* Runs the shell command FMT…; its exit status (-1 when it did not exit). */
int fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fx_vsh(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* A new fake tree at DIR (whatever was there removed first): the standard layout, or the
 * one EXTRA's generator options ask for ("--pfs 4 --vfs 4"); the generator's status. */
int fx_tree(const char *dir, const char *extra);

/* fx_sh() that must exit 0, as a cmocka assertion (<cmocka.h> first). */
#define fx_sh_ok(...) assert_int_equal(fx_sh(__VA_ARGS__), 0)

/* Shared bits of the core unit tests. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ucni/cni.h"

/* The recorded error has `code` and its message contains `needle`. */
#define assert_error(code, needle)                                                                 \
	do {                                                                                       \
		assert_true(cni_failed());                                                         \
		assert_int_equal(cni_error_code(), (code));                                        \
		if (!strstr(cni_error_msg(), (needle)))                                            \
			fail_msg("message \"%s\" does not contain \"%s\"", cni_error_msg(), (needle)); \
	} while (0)

static inline int reset_error(void **state)
{
	(void)state;
	cni_error_reset();
	return 0;
}

/* The monotonic clock in milliseconds: deadlines, waits and timeouts. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static inline long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Sleep `ms` milliseconds (less when a signal comes). */
static inline void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A duration in milliseconds from the environment variable NAME (UCNI_*_TIMEOUT_MS): DFLT
 * when it is unset, empty, not a whole decimal number, or outside MIN..MAX. */
static inline int env_ms(const char *name, int dflt, int min, int max)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return dflt;
	errno = 0;
	long n = strtol(v, &end, 10);
	return errno || *end || n < min || n > max ? dflt : (int)n;
}

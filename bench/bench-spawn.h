/* The driver ⇄ bench-spawn protocol (see spawn.c). */
#ifndef UCNI_BENCH_SPAWN_H
#define UCNI_BENCH_SPAWN_H
#include <stdint.h>

#define SPAWN_FD 3
#define SPAWN_MAX_REQUEST 16384
#define SPAWN_MAX_ARGS 64

struct spawn_reply {
	int32_t status; /* exit status, or 128 + signal */
	int32_t err;	/* errno when the program could not be started, else 0 */
	int64_t wall_ns, user_us, sys_us, maxrss_kb, minflt, nvcsw, nivcsw;
};
#endif

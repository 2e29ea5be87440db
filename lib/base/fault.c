/* Fault injection points (FAULTS=1 builds only; see include/ucni/fault.h). */
#ifdef UCNI_FAULTS
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/fault.h"

int fault_hit(const char *point, bool every)
{
	static int hits;
	const char *want = getenv("UCNI_FAULT");
	const char *trace = getenv("UCNI_FAULT_TRACE");
	if (trace) {
		/* Tests learn from this how many times each point is reached. */
		FILE *f = fopen(trace, "ae");
		if (f) {
			fprintf(f, "%s\n", point);
			fclose(f);
		}
	}
	if (!want)
		return 0;
	size_t n = strlen(point);
	if (strncmp(want, point, n) != 0 || (want[n] != '\0' && want[n] != '#'))
		return 0;
	int nth = want[n] == '#' ? atoi(want + n + 1) : 1;
	if (++hits != nth && (want[n] == '#' || !every))
		return 0;
	const char *kill = getenv("UCNI_FAULT_KILL");
	if (kill && strcmp(kill, "1") == 0) /* UCNI_FAULT_KILL=0: the -EIO */
		raise(SIGKILL);
	return -EIO;
}

bool fault_simulate(const char *what)
{
	const char *list = getenv("UCNI_FAULT_SIMULATE");
	size_t n = strlen(what);
	for (const char *p = list; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (strncmp(p, what, n) == 0 && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int fault_unused;
#endif

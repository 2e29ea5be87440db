/* Fault injection for tests. Compiled in only with FAULTS=1 (build/fault/):
 * a normal build has no code for it, so no environment can switch it on.
 *
 *   UCNI_FAULT=point[#n]   the n-th time (default: the 1st; at a FAULT_EVERY
 *                          point, every time) `point` is reached, it fails
 *                          with -EIO ...
 *   UCNI_FAULT_KILL=1      ... or the process kills itself with SIGKILL there
 *                          (any other value: the -EIO).
 *   UCNI_FAULT_TRACE=file  append the name of every point reached to file.
 *   UCNI_FAULT_SIMULATE=what[,what…]  behave as on a system where `what` holds
 *                          (SIMULATE("old-kernel"): a kernel before 6.14).
 */
#pragma once

#include <stdbool.h>

#ifdef UCNI_FAULTS
int fault_hit(const char *point, bool every);
bool fault_simulate(const char *what);
#define FAULT(point) fault_hit(point, false)
/* A point a caller may retry after its failure (devmgr's store and its writes): the
 * retry fails the same way. */
#define FAULT_EVERY(point) fault_hit(point, true)
#define SIMULATE(what) fault_simulate(what)
#else
#define FAULT(point) 0
#define FAULT_EVERY(point) 0
#define SIMULATE(what) false
#endif

/* Fault injection for tests. Compiled in only with FAULTS=1 (build/fault/):
 * a normal build has no code for it, so no environment can switch it on.
 *
 *   UCNI_FAULT=point[#n]   the n-th time (default 1st) `point` is reached,
 *                          it fails with -EIO ...
 *   UCNI_FAULT_KILL=1      ... or the process kills itself with SIGKILL there.
 *   UCNI_FAULT_TRACE=file  append the name of every point reached to file.
 */
#pragma once

#ifdef UCNI_FAULTS
int fault_hit(const char *point);
#define FAULT(point) fault_hit(point)
#else
#define FAULT(point) 0
#endif

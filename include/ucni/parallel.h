/* Independent work shared out between threads, one per CPU the process may run on. */
#pragma once

#include <stddef.h>

/* Calls FN(BEGIN, END, ARG) over [0, N) in chunks of CHUNK items taken in turn from one
 * counter, by the calling thread and up to PAR_THREADS_MAX - 1 threads it starts: as many
 * as the CPUs in the process's affinity mask allow and as there are MIN_PER_THREAD items
 * for each (fewer items run on the calling thread alone: a thread costs about as much as
 * a few hundred small reads). FN must not touch what another chunk touches. Every chunk
 * has run, and every thread started has ended, when it returns; a thread that cannot be
 * started leaves its share to the others. The threads block every signal. */
#define PAR_THREADS_MAX 4
void par_run(size_t n, size_t chunk, size_t min_per_thread, void (*fn)(size_t begin, size_t end, void *arg),
             void *arg);

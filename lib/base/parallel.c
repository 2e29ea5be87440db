/* par_run(): chunks of independent work taken from one atomic counter by a few threads. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>

#include "ucni/parallel.h"

typedef struct par_job {
	size_t n, chunk;
	void (*fn)(size_t begin, size_t end, void *arg);
	void *arg;
	atomic_size_t next;
} par_job;

static void *par_worker(void *arg)
{
	par_job *j = arg;
	for (;;) {
		size_t b = atomic_fetch_add_explicit(&j->next, j->chunk, memory_order_relaxed);
		if (b >= j->n)
			return NULL;
		j->fn(b, j->n - b > j->chunk ? b + j->chunk : j->n, j->arg);
	}
}

static size_t par_threads(size_t n, size_t min_per_thread)
{
	cpu_set_t set;
	size_t cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? (size_t)CPU_COUNT(&set) : 1;
	size_t t = min_per_thread ? n / min_per_thread : n;
	t = t < cpus ? t : cpus;
	t = t < PAR_THREADS_MAX ? t : PAR_THREADS_MAX;
	return t ? t : 1;
}

void par_run(size_t n, size_t chunk, size_t min_per_thread, void (*fn)(size_t begin, size_t end, void *arg),
             void *arg)
{
	par_job j = { .n = n, .chunk = chunk ? chunk : 1, .fn = fn, .arg = arg };
	pthread_t tids[PAR_THREADS_MAX];
	size_t started = 0, want = n ? par_threads(n, min_per_thread) : 1;
	atomic_init(&j.next, 0);
	if (want > 1) {
		pthread_attr_t attr;
		sigset_t all, old;
		/* signals stay with the caller's thread; the workers need little stack */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_attr_init(&attr) == 0) {
			(void)pthread_attr_setstacksize(&attr, 256 * 1024);
			for (size_t k = 1; k < want; k++)
				if (pthread_create(&tids[started], &attr, par_worker, &j) == 0)
					started++;
			pthread_attr_destroy(&attr);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	par_worker(&j);
	for (size_t k = 0; k < started; k++)
		pthread_join(tids[k], NULL);
}

/* Small helpers of the driver: interruption, errors, memory, files, helper commands. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"

extern char **environ;

/* A signal only sets `stop`; the driver acts on it once the child it is waiting for has
 * finished (so no `ip` or plugin is left running behind the clean-up). */
volatile sig_atomic_t stop;
bool in_cleanup;

void check_stop(void)
{
	if (stop && !in_cleanup) {
		fprintf(stderr, "bench: interrupted by signal %d, cleaning up\n", (int)stop);
		exit(128 + stop);
	}
}

/* ---- small helpers ---- */
double ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

double tv_ms(const struct timeval *t)
{
	return (double)t->tv_sec * 1e3 + (double)t->tv_usec / 1e3;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die("out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return p;
}

char *read_file(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	buf[0] = 0;
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Run a helper command (never timed); 0 when it exited 0. Output goes to our stderr. */
int run_cmd(const char *const argv[])
{
	pid_t pid;
	int st;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(r));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	check_stop();
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ip [-n NS] -batch FILE, where FILE holds `text`. */
int ip_batch(const char *ns, const char *text)
{
	char *path = xasprintf("%s/batch", tmpdir);
	FILE *f = fopen(path, "w");
	int r;
	if (!f)
		die("%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	if (ns) {
		const char *argv[] = {"ip", "-n", (char *)ns, "-batch", path, NULL};
		r = run_cmd(argv);
	} else {
		const char *argv[] = {"ip", "-batch", path, NULL};
		r = run_cmd(argv);
	}
	free(path);
	return r;
}

/* A growing text buffer. */
void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("format error");
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		if (!(b->p = realloc(b->p, b->cap)))
			die("out of memory");
		if (b->len == 0)
			b->p[0] = 0;
	}
}

void die(const char *fmt, ...)
{
	va_list ap;
	check_stop();
	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* The runner: one timed run of a program (through the spawner, bench/spawn.c) and the
 * frame every case shares (iterations in chunks of pod namespaces, the case's metadata). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-spawn.h"
#include "driver.h"

extern char **environ;

char *memfd_contents(int fd)
{
	struct stat st;
	char *p;
	if (fstat(fd, &st) < 0)
		return xstrdup("");
	if (!(p = malloc((size_t)st.st_size + 1)))
		die("out of memory");
	ssize_t n = pread(fd, p, (size_t)st.st_size, 0);
	p[n > 0 ? n : 0] = 0;
	return p;
}

/* The helper that spawns and times every measured program (bench/spawn.c says why). */
static int spawner_sock = -1;
static pid_t spawner_pid;

void spawner_start(const char *path)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SPAWN_FD);
	const char *argv[] = {path, NULL};
	int r = posix_spawn(&spawner_pid, path, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		die("cannot run %s: %s", path, strerror(r));
	close(sv[1]);
	spawner_sock = sv[0];
}

void spawner_stop(void)
{
	if (spawner_sock < 0)
		return;
	close(spawner_sock);
	spawner_sock = -1;
	waitpid(spawner_pid, NULL, 0);
}

/* A binary being relinked by a concurrent `make` is briefly not executable: wait up to 10 s. */
void wait_runnable(const char *path)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	for (int i = 0; i < 100 && access(path, X_OK) < 0; i++)
		nanosleep(&ts, NULL);
}

/* Run argv with envp and `input` on stdin, inside namespace nsfd, through the spawner;
 * the spawner times spawn..wait4 and returns wait4's rusage. */
void run_timed(int nsfd, const char *const argv[], const char *const envp[], const char *input,
		      struct run *ret)
{
	static char req[SPAWN_MAX_REQUEST];
	int in[2], outfd, errfd;
	size_t len = input ? strlen(input) : 0, off = 2 * sizeof(uint32_t);
	uint32_t hdr[2] = {0, 0};

	int retries = 0;
again:
	memset(ret, 0, sizeof(*ret));
	off = 2 * sizeof(uint32_t);
	hdr[0] = hdr[1] = 0;
	wait_runnable(argv[0]);
	for (int pass = 0; pass < 2; pass++)
		for (const char *const *v = pass ? envp : argv; *v; v++) {
			size_t n = strlen(*v) + 1;
			if (off + n > sizeof(req) || hdr[pass] == SPAWN_MAX_ARGS)
				die("arguments too long for the spawner");
			memcpy(req + off, *v, n);
			off += n;
			hdr[pass]++;
		}
	memcpy(req, hdr, sizeof(hdr));

	if (pipe2(in, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	if (len >= 65536 || (len && write(in[1], input, len) != (ssize_t)len))
		die("the plugin's input does not fit a pipe");
	close(in[1]);
	outfd = memfd_create("bench-out", MFD_CLOEXEC);
	errfd = memfd_create("bench-err", MFD_CLOEXEC);
	if (outfd < 0 || errfd < 0)
		die("memfd_create: %s", strerror(errno));

	int fds[4] = {nsfd, in[0], outfd, errfd};
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {req, off};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(spawner_sock, &msg, 0) != (ssize_t)off)
		die("sending to the spawner: %s", strerror(errno));
	close(in[0]);

	struct spawn_reply rep;
	ssize_t n;
	while ((n = recv(spawner_sock, &rep, sizeof(rep), 0)) < 0 && errno == EINTR)
		;
	check_stop();
	if (n != (ssize_t)sizeof(rep))
		die("the spawner died");
	if (rep.err == ETXTBSY && retries++ < 50) {
		/* Being relinked by a concurrent build: try again in a moment. */
		close(outfd);
		close(errfd);
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		goto again;
	}
	if (rep.err)
		die("cannot run %s: %s", argv[0], strerror(rep.err));

	ret->wall_ms = (double)rep.wall_ns / 1e6;
	ret->user_ms = (double)rep.user_us / 1e3;
	ret->sys_ms = (double)rep.sys_us / 1e3;
	ret->cpu_ms = ret->user_ms + ret->sys_ms;
	ret->rss_kb = (long)rep.maxrss_kb;
	ret->minflt = (long)rep.minflt;
	ret->csw = (long)(rep.nvcsw + rep.nivcsw);
	ret->status = rep.status;
	ret->out = memfd_contents(outfd);
	char *e = memfd_contents(errfd);
	snprintf(ret->err, sizeof(ret->err), "%s", e);
	free(e);
	close(outfd);
	close(errfd);
}

/* ---- the frame every case shares ---- */
void loadavg(char *buf, size_t len)
{
	snprintf(buf, len, "%s", read_file("/proc/loadavg"));
	char *p = strchr(buf, ' ');
	for (int k = 0; p && k < 2; k++)
		p = strchr(p + 1, ' ');
	if (p)
		*p = 0;
}

static int count_netns(void)
{
	/* The named ones, as `ip netns list` shows them: unnamed ones (containers of other
	 * runtimes) would count as well but cannot be listed cheaply. */
	DIR *d = opendir("/var/run/netns");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

struct case_meta metas[32];
int n_metas;

struct case_meta *meta_begin(const char *name)
{
	struct case_meta *m = &metas[n_metas++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	loadavg(m->load_before, sizeof(m->load_before));
	return m;
}

void meta_end(struct case_meta *m, const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m->seconds = ms(t0, &t1) / 1e3;
	loadavg(m->load_after, sizeof(m->load_after));
}

/* Give the kernel's deferred work (namespace cleanup, RCU) time to finish between cases. */
static void settle(void)
{
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

/*
 * The frame every case shares: opt.iterations iterations of per_iter runs, each run in
 * a pod namespace of its own. The namespaces of a chunk of iterations are made before
 * it and removed after it, outside the timed runs. body(it, that iteration's pods, arg)
 * does one iteration. `about` adds to the announcement line.
 */
void run_in_chunks(const char *cas, int per_iter, const char *about, iteration_fn body, void *arg)
{
	int total = per_iter * opt.iterations;
	char **pods = calloc((size_t)total, sizeof(char *));
	double create_s = 0, delete_s = 0;
	struct timespec ta, tb;
	char pfx[96];
	if (!pods)
		die("out of memory");
	snprintf(pfx, sizeof(pfx), "%s-%s-", prefix, cas);
	for (int i = 0; i < total; i++)
		pods[i] = xasprintf("%s%d", pfx, i);
	int chunk = opt.chunk < opt.iterations ? opt.chunk : opt.iterations;
	printf("  %-18s %d iterations × %d runs%s, pod namespaces made %d at a time …\n", cas, opt.iterations, per_iter,
	       about, chunk * per_iter);
	fflush(stdout);
	struct case_meta *meta = meta_begin(cas);
	meta->alive_ns = count_netns();
	meta->seconds = 0;

	for (int first = 0; first < opt.iterations; first += chunk) {
		int last = first + chunk < opt.iterations ? first + chunk : opt.iterations;
		clock_gettime(CLOCK_MONOTONIC, &ta);
		ns_create(pods + first * per_iter, (last - first) * per_iter);
		settle();
		clock_gettime(CLOCK_MONOTONIC, &tb);
		create_s += ms(&ta, &tb) / 1e3;
		int alive = count_netns();
		if (alive > meta->alive_ns)
			meta->alive_ns = alive;
		for (int it = first; it < last; it++) {
			body(it, pods + it * per_iter, arg);
			if (opt.verbose) {
				fprintf(stderr, ".");
				fflush(stderr);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &ta);
		meta->seconds += ms(&tb, &ta) / 1e3;
		ns_delete_matching(pfx, false);
		settle();
		clock_gettime(CLOCK_MONOTONIC, &tb);
		delete_s += ms(&ta, &tb) / 1e3;
	}
	loadavg(meta->load_after, sizeof(meta->load_after));
	printf("  %-18s %.1f s of runs; %.1f s to make and %.1f s to remove namespaces; up to %d namespaces alive\n", "",
	       meta->seconds, create_s, delete_s, meta->alive_ns);
	fflush(stdout);
	for (int i = 0; i < total; i++)
		free(pods[i]);
	free(pods);
}

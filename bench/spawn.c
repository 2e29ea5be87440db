/* bench-spawn — the benchmark driver's helper that starts and times each measured program.
 *
 * Why a separate process: wait4's ru_maxrss is the larger of the child's own peak RSS and
 * the peak RSS of the address space it replaced at exec, and a child of posix_spawn/vfork
 * replaces its parent's address space. Spawned straight from the driver (≈1.6 MB), every
 * program would appear to need at least that much. This helper touches almost nothing
 * (well under 1 MB), so the figure is the program's own.
 *
 * Protocol on fd 3, a SOCK_SEQPACKET socket: each request is one message
 *   u32 argc, u32 envc, then argc + envc NUL-terminated strings,
 * with four descriptors attached (SCM_RIGHTS): network namespace, stdin, stdout, stderr.
 * The helper enters the namespace, spawns argv[0], waits, and answers with one
 * struct spawn_reply. It exits when the socket closes. */
#include <errno.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-spawn.h"

static char buf[SPAWN_MAX_REQUEST];
static char *argv[SPAWN_MAX_ARGS + 1], *envp[SPAWN_MAX_ARGS + 1];

static int handle(int sock)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	struct spawn_reply rep = {0};
	int fds[4] = {-1, -1, -1, -1};
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(fds)))
		memcpy(fds, CMSG_DATA(c), sizeof(fds));
	buf[n] = 0;

	uint32_t hdr[2];
	if ((size_t)n < sizeof(hdr) || fds[3] < 0) {
		rep.err = EINVAL;
		goto reply;
	}
	memcpy(hdr, buf, sizeof(hdr));
	if (hdr[0] < 1 || hdr[0] > SPAWN_MAX_ARGS || hdr[1] > SPAWN_MAX_ARGS) {
		rep.err = E2BIG;
		goto reply;
	}
	char *p = buf + sizeof(hdr), *end = buf + n;
	for (uint32_t i = 0; i < hdr[0] + hdr[1]; i++) {
		if (p >= end) {
			rep.err = EINVAL;
			goto reply;
		}
		if (i < hdr[0])
			argv[i] = p;
		else
			envp[i - hdr[0]] = p;
		p += strlen(p) + 1;
	}
	argv[hdr[0]] = NULL;
	envp[hdr[1]] = NULL;

	if (setns(fds[0], CLONE_NEWNET) < 0) {
		rep.err = errno;
		goto reply;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fds[2], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fds[3], STDERR_FILENO);
	struct timespec t0, t1;
	struct rusage ru;
	pid_t pid;
	int st = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	if (r == 0)
		while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
			;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		rep.err = r;
		goto reply;
	}
	rep.wall_ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
	rep.user_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
	rep.sys_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
	rep.maxrss_kb = ru.ru_maxrss;
	rep.minflt = ru.ru_minflt;
	rep.nvcsw = ru.ru_nvcsw;
	rep.nivcsw = ru.ru_nivcsw;
	rep.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
reply:
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return send(sock, &rep, sizeof(rep), 0) == (ssize_t)sizeof(rep) ? 0 : -1;
}

int main(void)
{
	while (handle(SPAWN_FD) == 0)
		;
	return 0;
}

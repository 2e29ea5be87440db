/* IPAM delegation: find the plugin in CNI_PATH, run it without a shell (or, when it
 * is ucni's own of this build, in-process: ipam-inproc.c), and take over its result
 * or its error.
 *
 * The plugin runs in a process group of its own with a parent-death signal
 * (SIGKILL), so it dies with the plugin that ran it. One deadline bounds the
 * whole exchange: start, writing its stdin, reading its stdout and waiting for
 * it to exit. Past the deadline, after more than IPAM_MAX_OUTPUT bytes of
 * output, or when its output cannot be read, the whole group is killed. In
 * every case, also after a clean exit, what is left of the group is killed
 * and reaped before run() returns: this process is a child subreaper, so the
 * members the plugin forked come back here to be reaped. An answer counts only
 * when the plugin exited within the deadline: one that closes its output and
 * lingers is killed and its answer dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/fault.h"
#include "ucni/ipam.h"
#include "ucni/jsoncheck.h"
#include "ucni/log.h"

extern char **environ;

#define IPAM_MAX_OUTPUT (1u << 20)
#define IPAM_DEFAULT_TIMEOUT_MS 60000
/* The timeout of the IPAM DEL that releases what a failed ADD may hold: its
 * own, so that an ADD stopped by a short UCNI_IPAM_TIMEOUT_MS still releases. */
#define IPAM_CLEANUP_TIMEOUT_MS 10000
/* A killed group member that is not gone by then is stuck in the kernel. */
#define IPAM_REAP_GRACE_MS 2000
/* The child runs on this stack from clone() to execve(): a few system calls. */
#define SPAWN_STACK (32 * 1024)

int ipam_find(const char *path, const char *type, char **ret)
{
	const char *p = path ? path : "";
	while (*p) {
		const char *end = strchrnul(p, ':');
		if (end > p) {
			char *cand;
			struct stat st;
			if (asprintf(&cand, "%.*s/%s", (int)(end - p), p, type) < 0)
				return -ENOMEM;
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
				*ret = cand;
				return 0;
			}
			free(cand);
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

static char **child_env(enum cni_verb verb)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(char *));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) != 0)
			env[k++] = environ[i];
	static char cmd[32];
	snprintf(cmd, sizeof(cmd), "CNI_COMMAND=%s", cni_verb_str(verb));
	env[k] = cmd;
	return env;
}

/* UCNI_IPAM_TIMEOUT_MS (the runtime's environment) overrides the default. */
static int timeout_ms(void)
{
	return env_ms("UCNI_IPAM_TIMEOUT_MS", IPAM_DEFAULT_TIMEOUT_MS, 1, 24 * 3600 * 1000);
}

/*
 * Once per process: become the child subreaper, so that what an IPAM plugin
 * forks and leaves behind is reparented here and can be reaped; and take
 * SIGCHLD back from SIG_IGN (a runtime may hand it down), under which the
 * kernel reaps children itself and their exit status is lost.
 */
static void reaper_init(void)
{
	static bool done;
	struct sigaction sa;
	if (done)
		return;
	done = true;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (sigaction(SIGCHLD, NULL, &sa) == 0 && (sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDWAIT))) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigaction(SIGCHLD, &dfl, NULL);
	}
}

/* A pipe whose ends are above stderr: the child's dup2() onto 0 and 1 cannot hit them. */
static int pipe_above_stdio(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		if (p[i] > STDERR_FILENO)
			continue;
		int fd = fcntl(p[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		int e = errno;
		close(p[i]);
		p[i] = fd;
		if (fd < 0) {
			if (p[1 - i] >= 0)
				close(p[1 - i]);
			p[0] = p[1] = -1;
			return -e;
		}
	}
	return 0;
}

struct child {
	pid_t pid;   /* the plugin; also the id of its process group */
	int pidfd;   /* readable once it exited; -1 on kernels before 5.2 */
	bool exited; /* it exited (maybe a zombie still: then pid still names its group) */
	bool reaped;
	int status;
};

struct spawn_args {
	const char *path;
	char *const *argv;
	char *const *env;
	int in, out;
	pid_t parent;
	sigset_t mask; /* the caller's, restored right before execve */
	volatile int err;
};

/*
 * The child, from clone() to execve(). It shares the parent's memory and the
 * parent waits (CLONE_VFORK), so it only makes system calls, and a failure is
 * left in a->err for the parent to read when it resumes. Not instrumented by
 * AddressSanitizer: the redzones of a frame that never returns would stay
 * poisoned in the parent's stack.
 */
__attribute__((no_sanitize_address)) static int spawn_child(void *arg)
{
	struct spawn_args *a = arg;
	struct sigaction dfl = {.sa_handler = SIG_DFL}, cur;

	if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	/* The parent died before the prctl (a kill -9 does not wait for vfork): no signal will come. */
	if (getppid() != a->parent)
		_exit(127);
	if (dup2(a->in, STDIN_FILENO) < 0 || dup2(a->out, STDOUT_FILENO) < 0)
		goto fail;
	/* No handler of the parent's may run here; SIGPIPE, ignored by the plugin, is the
	 * child's again. Signals are blocked until the mask is restored. */
	for (int s = 1; s < NSIG; s++)
		if (sigaction(s, NULL, &cur) == 0 &&
		    (s == SIGPIPE || (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)))
			sigaction(s, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &a->mask, NULL);
	execve(a->path, a->argv, a->env);
fail:
	a->err = errno;
	_exit(127);
}

/*
 * Start `path` with `in` as stdin and `out` as stdout. Not a fork: the child
 * borrows this process's memory until it calls execve (clone with CLONE_VM and
 * CLONE_VFORK), which posix_spawn does too but without a way to set the
 * parent-death signal.
 */
static int spawn(const char *path, char *const *env, int in, int out, struct child *ret)
{
	char stack[SPAWN_STACK] __attribute__((aligned(16)));
	char *const argv[] = {(char *)path, NULL};
	struct spawn_args a = {.path = path, .argv = argv, .env = env, .in = in, .out = out, .parent = getpid()};
	const int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
	sigset_t all;
	int pidfd = -1, e;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &a.mask);
	/* Kernels before 5.2 refuse CLONE_PIDFD: then the exit is polled for. */
	errno = EINVAL;
	pid = SIMULATE("no-pidfd") ? -1 : clone(spawn_child, stack + sizeof(stack), flags | CLONE_PIDFD, &a, &pidfd);
	if (pid < 0 && errno == EINVAL) {
		pidfd = -1;
		pid = clone(spawn_child, stack + sizeof(stack), flags, &a);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &a.mask, NULL);
	if (pid < 0)
		return -e;
	if (a.err) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (pidfd >= 0)
			close(pidfd);
		return -a.err;
	}
	*ret = (struct child){.pid = pid, .pidfd = pidfd};
	return 0;
}

/* Has the child exited? Waits up to `ms` (0: only looks). Reaps nothing. */
static bool child_exited(struct child *c, int ms)
{
	long long until = now_ms() + ms;
	while (!c->exited) {
		long long left = until - now_ms();
		if (c->pidfd >= 0) {
			struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
			int k = poll(&p, 1, left > 0 ? (int)left : 0);
			if (k > 0)
				c->exited = true;
			else if (k == 0 || errno != EINTR)
				break;
		} else {
			siginfo_t si = {0};
			if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == c->pid)
				c->exited = true;
			else if (left <= 0)
				break;
			else
				sleep_ms(left < 5 ? (int)left : 5);
		}
	}
	return c->exited;
}

/*
 * Kill what is left of the child's process group and reap all of it. The
 * group is signalled while the child is not reaped yet, so its id cannot name
 * another group; the members it leaves come to this process (the subreaper)
 * and are reaped until none is left, or until a grace period ends for members
 * stuck in the kernel.
 */
static void child_stop(struct child *c)
{
	long long until = now_ms() + IPAM_REAP_GRACE_MS;
	int st;

	if (!c->reaped) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL); /* in case it left its group */
		if (!child_exited(c, IPAM_REAP_GRACE_MS))
			goto out;
		while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
			;
		c->reaped = true;
	}
	for (;;) {
		pid_t p = waitpid(-c->pid, &st, WNOHANG);
		if (p > 0 || (p < 0 && errno == EINTR))
			continue;
		if (p < 0 || now_ms() >= until)
			break; /* ECHILD: nothing of the group is left */
		kill(-c->pid, SIGKILL);
		sleep_ms(1);
	}
out:
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
}

struct output {
	char *buf;
	size_t len, cap;
	bool eof;
};

/* Read what is there: 0 when the pipe is empty, -EFBIG past IPAM_MAX_OUTPUT. */
static int drain(int fd, struct output *o)
{
	while (!o->eof) {
		if (o->len == o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 4096;
			if (cap > IPAM_MAX_OUTPUT + 1)
				cap = IPAM_MAX_OUTPUT + 1;
			char *b = realloc(o->buf, cap + 1);
			if (!b)
				return -ENOMEM;
			o->buf = b;
			o->cap = cap;
		}
		ssize_t n = read(fd, o->buf + o->len, o->cap - o->len);
		if (n > 0) {
			o->len += (size_t)n;
			if (o->len > IPAM_MAX_OUTPUT)
				return -EFBIG;
		} else if (n == 0) {
			o->eof = true;
		} else if (errno == EAGAIN) {
			return 0;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/*
 * Feed stdin and collect stdout until the child exits, or the deadline.
 * Its exit, not the end of its output, ends the exchange: then what it
 * printed is all in the pipe. Closes `in`.
 */
static int exchange(struct child *c, int in, int out, const char *data, size_t len, long long deadline,
		    struct output *o)
{
	size_t off = 0;
	int r = 0;

	if (len == 0) {
		close(in);
		in = -1;
	}
	while (!c->exited) {
		struct pollfd p[3];
		int n = 0, i_in = -1, i_out = -1, i_pid = -1;
		long long left = deadline - now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (!o->eof) {
			i_out = n;
			p[n++] = (struct pollfd){.fd = out, .events = POLLIN};
		}
		if (in >= 0) {
			i_in = n;
			p[n++] = (struct pollfd){.fd = in, .events = POLLOUT};
		}
		if (c->pidfd >= 0) {
			i_pid = n;
			p[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
		} else if (left > 5) {
			left = 5; /* no pidfd: look for its exit now and then */
		}
		int k = poll(p, (nfds_t)n, (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (i_in >= 0 && p[i_in].revents) {
			ssize_t w = write(in, data + off, len - off);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(in); /* the plugin stopped reading; its answer tells why */
				in = -1;
			} else if (w > 0 && (off += (size_t)w) == len) {
				close(in);
				in = -1;
			}
		}
		if (i_out >= 0 && p[i_out].revents && (r = drain(out, o)) < 0)
			break;
		if (i_pid >= 0 ? (p[i_pid].revents & POLLIN) != 0 : child_exited(c, 0))
			c->exited = true;
	}
	if (in >= 0)
		close(in);
	if (r == 0)
		r = drain(out, o);
	return r;
}

/* What the last run of the plugin said: it was started, its exit status was 0, its CNI error code. */
static bool last_started;
static bool last_exit_ok;
static int last_code;

static int run(const struct cni_ctx *ctx, enum cni_verb verb, const char *data, size_t len, int tmo,
	       struct cni_result **ret_result, cJSON **ret_json);
static int ipam_supported_versions(const struct cni_ctx *ctx, bool supported[CNI_V_COUNT]);

/* The config as `v`: cniVersion and prevResult rewritten. */
static char *config_as(const struct cni_ctx *ctx, enum cni_version v)
{
	cJSON *c = cJSON_Duplicate(ctx->conf.root, true);
	char *s = NULL;
	if (!c)
		return NULL;
	cJSON_ReplaceItemInObjectCaseSensitive(c, "cniVersion", cJSON_CreateString(cni_version_str(v)));
	if (ctx->conf.prev)
		cJSON_ReplaceItemInObjectCaseSensitive(c, "prevResult", cni_result_to_json(ctx->conf.prev, v));
	s = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return s;
}

/*
 * An IPAM plugin older than the config (Debian's 1.1.1 plugins stop at 1.0.0
 * while runtimes send 1.1.0) answers code 1. Then ask which versions it
 * speaks and talk to it in the newest one that is older than the config's and
 * still allows the verb; results are converted back by the caller's printer.
 * The config sent is left in *ret_cfg.
 */
static int run_older(const struct cni_ctx *ctx, enum cni_verb verb, struct cni_result **ret_result,
		     bool had_error, char **ret_cfg)
{
	bool sup[CNI_V_COUNT] = {false};
	int min = verb == CNI_CHECK ? CNI_V040 : CNI_V030;
	if (ipam_supported_versions(ctx, sup) < 0)
		return -EPROTO;
	for (int v = (int)ctx->conf.version - 1; v >= min; v--) {
		if (!sup[v])
			continue;
		char *cfg = config_as(ctx, v);
		if (!cfg)
			return -ENOMEM;
		log_info("IPAM plugin %s does not speak %s; using %s", ctx->conf.ipam_type,
			 ctx->conf.version_str, cni_version_str(v));
		if (!had_error)
			cni_error_reset();
		*ret_cfg = cfg;
		return run(ctx, verb, cfg, strlen(cfg), timeout_ms(), ret_result, NULL);
	}
	return -EPROTO;
}

int ipam_exec(const struct cni_ctx *ctx, enum cni_verb verb, const char *data, size_t len,
	      struct cni_result **ret_result)
{
	bool had_error = cni_failed();
	char *older = NULL;
	int r = run(ctx, verb, data, len, timeout_ms(), ret_result, NULL);
	bool started = last_started;
	if (r < 0 && last_code == CNI_ERR_INCOMPATIBLE_VERSION && verb != CNI_VERSION) {
		int r2 = run_older(ctx, verb, ret_result, had_error, &older);
		if (r2 != -EPROTO)
			r = r2;
		if (older) {
			data = older;
			len = strlen(older);
		}
	}
	if (r < 0 && verb == CNI_ADD && started) {
		/* Whatever it reserved before it failed, timed out or was killed is
		 * released; the ADD's error stays the one reported. */
		log_info("IPAM plugin %s: ADD failed, releasing with DEL", ctx->conf.ipam_type);
		run(ctx, CNI_DEL, data, len, IPAM_CLEANUP_TIMEOUT_MS, NULL, NULL);
	}
	free(older);
	return r;
}

/*
 * Run the builtin `b` (the IPAM at `path` is ours: ipam_inproc_match) as the exec
 * below would run `path`: its error is taken over as an exec'd plugin's printed one
 * is, a run that ends past the deadline is the same timeout (its answer dropped),
 * and its ADD result is read as the printed one would be.
 */
static int run_inproc(const struct ipam_builtin *b, const char *path, enum cni_verb verb, const char *data,
		      size_t len, int tmo, long long deadline, const char *who, struct cni_result **ret_result,
		      cJSON **ret_json)
{
	struct cni_error_saved outer, inner;
	const char *vs = cni_verb_str(verb);
	cJSON *out = NULL;
	int r;

	log_debug("running %s %s in-process", path, vs);
	last_started = true;
	cni_error_stash(&outer);
	r = FAULT("ipam.inproc.run");
	if (r < 0)
		cni_fail(CNI_ERR_IPAM, r, "%s failed in-process", vs);
	else
		r = b->run(b->data, verb, data, len, deadline, &out);
	cni_error_stash(&inner);
	cni_error_unstash(&outer);
	/* as exchange(): no time left is a timeout, whatever the run answered; the
	 * message says what happened here (nothing to kill: its waits end by the deadline) */
	if (now_ms() >= deadline) {
		r = cni_fail(CNI_ERR_IPAM, -ETIMEDOUT,
			     "%s timed out: %s did not finish within %d ms; it ran in-process (its waits "
			     "end at that limit) and its answer was not used",
			     who, vs, tmo);
		goto out;
	}
	if (r < 0) {
		last_code = inner.msg && inner.code >= 1 && inner.code <= 65535 ? inner.code : CNI_ERR_IPAM;
		r = cni_fail_details(last_code, -EIO, inner.details ? inner.details : "", "%s: %s", who,
				     inner.msg ? inner.msg : "internal error");
		goto out;
	}
	last_exit_ok = true;
	if (ret_json) {
		*ret_json = out;
		out = NULL;
	} else if (verb == CNI_ADD && ret_result) {
		if (!cJSON_IsObject(out))
			r = cni_fail_details(CNI_ERR_IPAM, -EINVAL, "", "%s printed a result that is not a JSON object",
					     who);
		else
			r = cni_result_parse(out, "IPAM result", ret_result);
	}
out:
	cJSON_Delete(out);
	cni_error_saved_free(&inner);
	return r;
}

static int run(const struct cni_ctx *ctx, enum cni_verb verb, const char *data, size_t len, int tmo,
	       struct cni_result **ret_result, cJSON **ret_json)
{
	const struct ipam_builtin *builtin = NULL;
	const char *why = "\"ipamInProcess\" is false";
	const char *type = ctx->conf.ipam_type;
	const char *vs = cni_verb_str(verb);
	char *path = NULL, **env = NULL;
	char who[128];
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
	struct child c = {.pid = -1, .pidfd = -1};
	struct output o = {0};
	long long deadline = now_ms() + tmo;
	int r, status;

	last_started = false;
	last_exit_ok = false;
	last_code = 0;
	snprintf(who, sizeof(who), "IPAM plugin \"%s\"", type);
	r = ipam_find(ctx->env.path, type, &path);
	if (r < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r,
				"invalid config: \"ipam.type\": no plugin \"%s\" in CNI_PATH \"%s\"", type,
				ctx->env.path ? ctx->env.path : "");
	if (ctx->conf.ipam_in_process && ipam_inproc_match(path, &builtin, &why) > 0) {
		r = run_inproc(builtin, path, verb, data, len, tmo, deadline, who, ret_result, ret_json);
		goto out;
	}
	log_debug("%s is exec'd: %s", path, why);
	reaper_init();
	env = child_env(verb);
	if (!env) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = pipe_above_stdio(in_pipe)) < 0 || (r = pipe_above_stdio(out_pipe)) < 0) {
		r = cni_fail(CNI_ERR_INTERNAL, r, "%s: cannot set up pipes", who);
		goto out;
	}
	log_debug("running %s %s", path, vs);
	r = FAULT("ipam.exec") ?: spawn(path, env, in_pipe[0], out_pipe[1], &c);
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	if (r < 0) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s could not be started (%s)", who, path);
		goto out;
	}
	last_started = true;
	fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
	r = exchange(&c, in_pipe[1], out_pipe[0], data, len, deadline, &o);
	in_pipe[1] = -1;
	child_stop(&c);
	status = c.status;
	if (r == -ETIMEDOUT && o.eof) {
		r = cni_fail(CNI_ERR_IPAM, r,
			     "%s timed out: it closed its output but did not exit within %d ms of %s; "
			     "it was killed and its answer not used",
			     who, tmo, vs);
		goto out;
	}
	if (r == -ETIMEDOUT) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s timed out: %s did not finish within %d ms; it was killed", who, vs,
			     tmo);
		goto out;
	}
	if (r == -EFBIG) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s printed more than %u bytes (1 MiB) on %s; it was killed", who,
			     IPAM_MAX_OUTPUT, vs);
		goto out;
	}
	if (r < 0) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s: reading its output of %s failed; it was killed", who, vs);
		goto out;
	}
	if (!c.reaped) {
		r = cni_fail(CNI_ERR_IPAM, -EBUSY, "%s exited after %s but could not be reaped", who, vs);
		goto out;
	}
	if (!o.buf && !(o.buf = calloc(1, 1))) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	o.buf[o.len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* its error is taken over only when no string of it is cut at a NUL */
		cJSON *e = o.len && !json_find_nul(o.buf, o.len, NULL) ? cJSON_ParseWithLength(o.buf, o.len) : NULL;
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		last_code = cJSON_IsNumber(code) ? code->valueint : CNI_ERR_IPAM;
		if (cJSON_IsObject(e) && cJSON_GetObjectItemCaseSensitive(e, "msg"))
			r = cni_fail_from_json(e, who);
		else if (WIFSIGNALED(status))
			r = cni_fail(CNI_ERR_IPAM, -EIO, "%s %s was killed by signal %d", who, vs, WTERMSIG(status));
		else
			r = cni_fail_details(CNI_ERR_IPAM, -EIO, o.buf, "%s %s failed with exit status %d", who, vs,
					     WEXITSTATUS(status));
		cJSON_Delete(e);
		goto out;
	}
	last_exit_ok = true;
	struct json_nul nul;
	if (json_find_nul(o.buf, o.len, &nul)) {
		r = cni_fail(CNI_ERR_DECODE, -EBADMSG, "%s printed an answer to %s holding a NUL (%s) at byte %zu%s%s", who,
			     vs, nul.raw ? "a NUL byte" : "\\u0000", nul.offset, nul.path[0] ? " in " : "", nul.path);
		goto out;
	}
	if (ret_json) {
		*ret_json = cJSON_ParseWithLength(o.buf, o.len);
		r = 0;
		goto out;
	}
	if (verb == CNI_ADD && ret_result) {
		cJSON *j = cJSON_ParseWithLength(o.buf, o.len);
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			r = cni_fail_details(CNI_ERR_IPAM, -EINVAL, o.buf,
					     "%s printed a result that is not a JSON object", who);
			goto out;
		}
		r = cni_result_parse(j, "IPAM result", ret_result);
		cJSON_Delete(j);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
	}
	free(env);
	free(o.buf);
	free(path);
	return r;
}

int ipam_add(const struct cni_ctx *ctx, struct cni_result **ret)
{
	return ipam_exec(ctx, CNI_ADD, ctx->conf.raw, ctx->conf.raw_len, ret);
}

/* Which versions does the IPAM plugin speak? Asked with VERSION. */
static int ipam_supported_versions(const struct cni_ctx *ctx, bool supported[CNI_V_COUNT])
{
	char in[64];
	cJSON *j = NULL, *e;
	int n = snprintf(in, sizeof(in), "{\"cniVersion\":\"%s\"}", ctx->conf.version_str);
	int r = run(ctx, CNI_VERSION, in, (size_t)n, timeout_ms(), NULL, &j);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "supportedVersions"))
	{
		int v = cJSON_IsString(e) ? cni_version_parse(e->valuestring) : -1;
		if (v >= 0)
			supported[v] = true;
	}
	cJSON_Delete(j);
	return 0;
}

int ipam_forward(const struct cni_ctx *ctx, enum cni_verb verb)
{
	if (verb == CNI_STATUS || verb == CNI_GC) {
		/* As libcni does: plugins older than 1.1.0 do not know these verbs. */
		bool sup[CNI_V_COUNT] = {false};
		int r = ipam_supported_versions(ctx, sup);
		if (r < 0)
			return r;
		if (!sup[CNI_V110]) {
			log_info("IPAM plugin %s predates CNI 1.1.0: %s not forwarded", ctx->conf.ipam_type,
				 cni_verb_str(verb));
			return 0;
		}
	}
	return ipam_exec(ctx, verb, ctx->conf.raw, ctx->conf.raw_len, NULL);
}

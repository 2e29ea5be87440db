/* IPAM delegation: find the plugin in CNI_PATH, run it without a shell, and
 * take over its result or its error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ucni/fault.h"
#include "ucni/ipam.h"
#include "ucni/log.h"

extern char **environ;

#define IPAM_MAX_OUTPUT (1u << 20)
#define IPAM_DEFAULT_TIMEOUT_MS 120000

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

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int timeout_ms(void)
{
	const char *s = getenv("UCNI_IPAM_TIMEOUT_MS");
	int v = s ? atoi(s) : 0;
	return v > 0 ? v : IPAM_DEFAULT_TIMEOUT_MS;
}

/* Feed stdin and collect stdout until the child closes it or time runs out. */
static int exchange(int in, int out, const char *data, size_t len, char **ret, size_t *ret_len)
{
	size_t off = 0, cap = 4096, got = 0;
	char *buf = malloc(cap + 1);
	long long deadline = now_ms() + timeout_ms();
	int r = 0;
	if (!buf)
		return -ENOMEM;
	if (len == 0) {
		close(in);
		in = -1;
	}
	while (out >= 0) {
		struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
		long long left = deadline - now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		int k = poll(p, in >= 0 ? 2 : 1, (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in, data + off, len - off);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(in); /* the plugin stopped reading; its answer tells why */
				in = -1;
			} else if (w > 0 && (off += (size_t)w) == len) {
				close(in);
				in = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (got == cap) {
				if (cap >= IPAM_MAX_OUTPUT) {
					r = -EFBIG;
					break;
				}
				char *nb = realloc(buf, cap * 2 + 1);
				if (!nb) {
					r = -ENOMEM;
					break;
				}
				buf = nb;
				cap *= 2;
			}
			ssize_t n = read(out, buf + got, cap - got);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				r = -errno;
				break;
			}
			if (n == 0)
				break;
			if (n > 0)
				got += (size_t)n;
		}
	}
	if (in >= 0)
		close(in);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
	*ret = buf;
	*ret_len = got;
	return 0;
}

/* What the last run of the plugin said: its exit status was 0, its CNI error code. */
static bool last_exit_ok;
static int last_code;

static int run(const struct cni_ctx *ctx, enum cni_verb verb, const char *data, size_t len,
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
 */
static int run_older(const struct cni_ctx *ctx, enum cni_verb verb, struct cni_result **ret_result,
		     bool had_error)
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
		int r = run(ctx, verb, cfg, strlen(cfg), ret_result, NULL);
		free(cfg);
		return r;
	}
	return -EPROTO;
}

int ipam_exec(const struct cni_ctx *ctx, enum cni_verb verb, const char *data, size_t len,
	      struct cni_result **ret_result)
{
	bool had_error = cni_failed();
	int r = run(ctx, verb, data, len, ret_result, NULL);
	if (r < 0 && last_code == CNI_ERR_INCOMPATIBLE_VERSION && verb != CNI_VERSION) {
		int r2 = run_older(ctx, verb, ret_result, had_error);
		if (r2 != -EPROTO)
			r = r2;
	}
	if (r < 0 && verb == CNI_ADD && last_exit_ok) {
		/* It said yes but its answer is unusable: release what it may hold. */
		run(ctx, CNI_DEL, data, len, NULL, NULL);
	}
	return r;
}

static int run(const struct cni_ctx *ctx, enum cni_verb verb, const char *data, size_t len,
	       struct cni_result **ret_result, cJSON **ret_json)
{
	const char *type = ctx->conf.ipam_type;
	char *path = NULL, *out = NULL, **env = NULL;
	char who[128];
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	pid_t pid;
	size_t out_len = 0;
	int r, status;

	last_exit_ok = false;
	last_code = 0;
	snprintf(who, sizeof(who), "IPAM plugin \"%s\"", type);
	r = ipam_find(ctx->env.path, type, &path);
	if (r < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r,
				"invalid config: \"ipam.type\": no plugin \"%s\" in CNI_PATH \"%s\"", type,
				ctx->env.path ? ctx->env.path : "");
	env = child_env(verb);
	if (!env || pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
		r = cni_fail(CNI_ERR_INTERNAL, -errno, "%s: cannot set up pipes", who);
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {path, NULL};
	log_debug("running %s %s", path, cni_verb_str(verb));
	r = FAULT("ipam.exec") ?: -posix_spawn(&pid, path, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	if (r < 0) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s could not be started (%s)", who, path);
		goto out;
	}
	fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	r = exchange(in_pipe[1], out_pipe[0], data, len, &out, &out_len);
	in_pipe[1] = -1;
	if (r == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -ETIMEDOUT) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s did not finish %s within %d ms and was stopped", who,
			     cni_verb_str(verb), timeout_ms());
		goto out;
	}
	if (r < 0) {
		r = cni_fail(CNI_ERR_IPAM, r, "%s: reading its output failed", who);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cJSON *e = out_len ? cJSON_Parse(out) : NULL;
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		last_code = cJSON_IsNumber(code) ? code->valueint : CNI_ERR_IPAM;
		if (cJSON_IsObject(e) && cJSON_GetObjectItemCaseSensitive(e, "msg"))
			r = cni_fail_from_json(e, who);
		else if (WIFSIGNALED(status))
			r = cni_fail(CNI_ERR_IPAM, -EIO, "%s %s was killed by signal %d", who,
				     cni_verb_str(verb), WTERMSIG(status));
		else
			r = cni_fail_details(CNI_ERR_IPAM, -EIO, out_len ? out : "", "%s %s failed with exit status %d",
					     who, cni_verb_str(verb), WEXITSTATUS(status));
		cJSON_Delete(e);
		goto out;
	}
	last_exit_ok = true;
	if (ret_json) {
		*ret_json = cJSON_ParseWithLength(out, out_len);
		r = 0;
		goto out;
	}
	if (verb == CNI_ADD && ret_result) {
		cJSON *j = cJSON_ParseWithLength(out, out_len);
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			r = cni_fail_details(CNI_ERR_IPAM, -EINVAL, out, "%s printed a result that is not a JSON object",
					     who);
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
	free(out);
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
	int r = run(ctx, CNI_VERSION, in, (size_t)n, NULL, &j);
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

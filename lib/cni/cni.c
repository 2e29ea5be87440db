/* The CNI protocol: versions, verbs, environment, CNI_ARGS and the plugin skeleton. */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/cni.h"
#include "ucni/log.h"
#include "ucni/netns.h"
#include "ucni/result.h"
#include "ucni/sha256.h"
#include "ucni/state.h"
#include "ucni/valid.h"

#define MAX_STDIN (1u << 20)
/* The per-attachment lock (see cni_main): where, and how long to wait for it. */
#define ATTACH_LOCK_DIR "/run/ucni/attach"
#define ATTACH_LOCK_TIMEOUT_MS 10000
#define ATTACH_LOCK_TIMEOUT_MAX_MS 600000

static const char *const versions[CNI_V_COUNT] = {
	[CNI_V030] = "0.3.0", [CNI_V031] = "0.3.1", [CNI_V040] = "0.4.0",
	[CNI_V100] = "1.0.0", [CNI_V110] = "1.1.0",
};

const char *cni_version_str(enum cni_version v)
{
	return (unsigned)v < CNI_V_COUNT ? versions[v] : NULL;
}

int cni_version_parse(const char *s)
{
	for (int i = 0; s && i < CNI_V_COUNT; i++)
		if (strcmp(s, versions[i]) == 0)
			return i;
	return -1;
}

cJSON *cni_version_info(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cniVersion", versions[CNI_V_NEWEST]);
	cJSON *l = cJSON_AddArrayToObject(o, "supportedVersions");
	for (int i = 0; i < CNI_V_COUNT; i++)
		cJSON_AddItemToArray(l, cJSON_CreateString(versions[i]));
	return o;
}

static const char *const verbs[CNI_VERB_COUNT] = {
	[CNI_ADD] = "ADD",         [CNI_DEL] = "DEL",       [CNI_CHECK] = "CHECK",
	[CNI_VERSION] = "VERSION", [CNI_STATUS] = "STATUS", [CNI_GC] = "GC",
};

const char *cni_verb_str(enum cni_verb v)
{
	return (unsigned)v < CNI_VERB_COUNT ? verbs[v] : NULL;
}

int cni_verb_parse(const char *s)
{
	for (int i = 0; s && i < CNI_VERB_COUNT; i++)
		if (strcmp(s, verbs[i]) == 0)
			return i;
	return -1;
}

const char *cni_ifname_problem(const char *name)
{
	return ifname_problem(name);
}

int cni_validate_ifname(const char *name, const char *what)
{
	const char *why = ifname_problem(name);
	if (why)
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "%s \"%s\" %s", what, name ? name : "", why);
	return 0;
}

int cni_validate_containerid(const char *id)
{
	switch (id_check(id)) {
	case ID_OK:
		return 0;
	case ID_EMPTY:
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "CNI_CONTAINERID is empty");
	case ID_TOO_LONG: /* runtimes use 64 characters; state files are named after it */
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "CNI_CONTAINERID is too long (%zu characters, at most %d)",
				strlen(id), ID_LEN_MAX);
	default:
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL,
				"CNI_CONTAINERID \"%s\" has invalid characters (allowed: letters, digits, '_', '.', '-', not first)",
				id);
	}
}

static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static bool truthy(const char *v)
{
	return strcasecmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
}

int cni_args_parse(struct cni_env *env, const char *raw, const char *const *known)
{
	env->args_raw = raw;
	if (!raw || !*raw)
		return 0;
	size_t cap = 1;
	for (const char *p = raw; *p; p++)
		cap += *p == ';';
	env->args = calloc(cap, sizeof(*env->args));
	if (!env->args)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	char *dup = strdup(raw), *save = NULL;
	if (!dup)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	int r = 0;
	for (char *pair = strtok_r(dup, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(pair, '=');
		if (!eq || eq == pair) {
			r = cni_fail(CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_ARGS: invalid pair \"%s\" (expected KEY=VALUE)", pair);
			goto out;
		}
		*eq = '\0';
		struct cni_arg *a = &env->args[env->n_args++];
		a->key = strdup(pair);
		a->value = strdup(eq + 1);
		if (!a->key || !a->value) {
			r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
			goto out;
		}
		if (strcmp(a->key, "IgnoreUnknown") == 0)
			env->ignore_unknown = truthy(a->value);
	}
	if (!env->ignore_unknown)
		for (size_t i = 0; i < env->n_args; i++)
			if (strcmp(env->args[i].key, "IgnoreUnknown") != 0 &&
			    !in_list(known, env->args[i].key)) {
				r = cni_fail(CNI_ERR_UNSUPPORTED_FIELD, -EINVAL,
					     "CNI_ARGS: unknown key \"%s\" (value \"%s\"); set IgnoreUnknown=1 to ignore it",
					     env->args[i].key, env->args[i].value);
				goto out;
			}
out:
	free(dup);
	return r;
}

const char *cni_env_arg(const struct cni_env *env, const char *key)
{
	for (size_t i = 0; i < env->n_args; i++)
		if (strcmp(env->args[i].key, key) == 0)
			return env->args[i].value;
	return NULL;
}

void cni_env_free(struct cni_env *env)
{
	for (size_t i = 0; i < env->n_args; i++) {
		free(env->args[i].key);
		free(env->args[i].value);
	}
	free(env->args);
	env->args = NULL;
	env->n_args = 0;
}

static int need(const char *name, const char **ret)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "required environment variable %s is missing",
				name);
	*ret = v;
	return 0;
}

int cni_env_load(struct cni_env *env, const char *const *known_args)
{
	return cni_env_load_verb(env, getenv("CNI_COMMAND"), known_args);
}

int cni_env_load_verb(struct cni_env *env, const char *command, const char *const *known_args)
{
	int r;
	env->command = command;
	r = cni_verb_parse(env->command);
	if (r < 0)
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "CNI_COMMAND \"%s\" is not a CNI command",
				env->command ? env->command : "");
	env->verb = r;
	if (env->verb == CNI_VERSION)
		return 0;
	env->netns = getenv("CNI_NETNS");
	env->containerid = getenv("CNI_CONTAINERID");
	env->ifname = getenv("CNI_IFNAME");
	env->path = getenv("CNI_PATH");

	switch (env->verb) {
	case CNI_ADD:
	case CNI_CHECK:
	case CNI_DEL:
		if ((r = need("CNI_CONTAINERID", &env->containerid)) < 0 ||
		    (r = cni_validate_containerid(env->containerid)) < 0)
			return r;
		if (env->verb != CNI_DEL && (r = need("CNI_NETNS", &env->netns)) < 0)
			return r;
		if ((r = need("CNI_IFNAME", &env->ifname)) < 0 ||
		    (r = cni_validate_ifname(env->ifname, "CNI_IFNAME")) < 0)
			return r;
		/* fall through */
	case CNI_STATUS:
	case CNI_GC:
		if ((r = need("CNI_PATH", &env->path)) < 0)
			return r;
		break;
	default:
		break;
	}
	return cni_args_parse(env, getenv("CNI_ARGS"), known_args);
}

const char *const cni_common_args[] = {"MAC", "K8S_POD_NAME", "K8S_POD_NAMESPACE",
				       "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID", NULL};

void cni_tmpname(const struct cni_env *env, char buf[16])
{
	uint32_t h = 2166136261u; /* FNV-1a over "containerid/ifname" */
	for (const char *p = env->containerid; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = env->ifname; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(buf, 16, "ucni%08x", h);
}

int cni_prev_iface(const struct cni_ctx *ctx, bool in_sandbox, int *ret)
{
	const struct cni_result *prev = ctx->conf.prev;
	const char *ifname = ctx->env.ifname, *ns = ctx->env.netns ? ctx->env.netns : "";
	if (!prev)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: CHECK needs \"prevResult\"");
	for (size_t i = prev->n_ifaces; i-- > 0;) {
		const struct cni_iface *f = &prev->ifaces[i];
		if (f->name && strcmp(f->name, ifname) == 0 &&
		    (!in_sandbox || (f->sandbox && strcmp(f->sandbox, ns) == 0))) {
			*ret = (int)i;
			return 0;
		}
	}
	if (in_sandbox)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -ENOENT,
				"invalid config: prevResult has no interface \"%s\" in sandbox \"%s\"", ifname, ns);
	return cni_fail(CNI_ERR_INVALID_CONFIG, -ENOENT, "invalid config: prevResult has no interface \"%s\"", ifname);
}

int cni_netns_open(const struct cni_env *env, int *ret_fd)
{
	const char *p = env->netns ? env->netns : "";
	int r = netns_open(p, ret_fd);
	if (r == -ENOENT)
		return cni_fail(CNI_ERR_UNKNOWN_CONTAINER, r, "CNI_NETNS \"%s\" does not exist", p);
	if (r == -EINVAL)
		return cni_fail(CNI_ERR_INVALID_ENV, r, "CNI_NETNS \"%s\" is not a network namespace", p);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "CNI_NETNS \"%s\" cannot be opened", p);
	return 0;
}

static int min_version(enum cni_verb verb)
{
	switch (verb) {
	case CNI_CHECK:
		return CNI_V040;
	case CNI_STATUS:
	case CNI_GC:
		return CNI_V110;
	default:
		return CNI_V030;
	}
}

/* Indent compact JSON by 4 spaces per level, as the reference plugins print. */
static void put_indented(const char *s, FILE *f)
{
	int depth = 0;
	bool in_str = false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (in_str) {
			fputc(c, f);
			if (c == '\\' && p[1])
				fputc(*++p, f);
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			fputc(c, f);
			break;
		case '{':
		case '[':
			fputc(c, f);
			if (p[1] == '}' || p[1] == ']') {
				fputc(*++p, f);
				break;
			}
			fprintf(f, "\n%*s", ++depth * 4, "");
			break;
		case '}':
		case ']':
			fprintf(f, "\n%*s%c", --depth * 4, "", c);
			break;
		case ',':
			fprintf(f, ",\n%*s", depth * 4, "");
			break;
		case ':':
			fputs(": ", f);
			break;
		default:
			fputc(c, f);
		}
	}
	fputc('\n', f);
}

void cni_print_json(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		put_indented(s, stdout);
	free(s);
}

/* $name as a number of milliseconds in 0..max, else dflt. */
static const char *attach_lock_dir(void)
{
	const char *dir = getenv("UCNI_LOCK_DIR");
	return dir && *dir ? dir : ATTACH_LOCK_DIR;
}

int cni_attach_lock_path(const struct cni_env *env, char *buf, size_t size)
{
	const char *dir = attach_lock_dir();
	char hex[SHA256_HEX_LEN + 1], *key = NULL;
	int n;
	if (dir[0] != '/')
		return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL, "UCNI_LOCK_DIR \"%s\" is not an absolute path", dir);
	/* Neither part holds a '/': "ID/ifname" names one attachment. */
	if ((n = asprintf(&key, "%s/%s", env->containerid, env->ifname)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	sha256_hex(key, (size_t)n, hex);
	free(key);
	if ((size_t)snprintf(buf, size, "%s/%s.lock", dir, hex) >= size)
		return cni_fail(CNI_ERR_INVALID_ENV, -ENAMETOOLONG, "UCNI_LOCK_DIR \"%s\" is too long", dir);
	return 0;
}

/*
 * One ADD, CHECK or DEL of an attachment at a time: a DEL that a runtime sends
 * while its ADD still runs (after a timeout, say) waits for that ADD instead of
 * racing it. The lock is a file named after the SHA-256 of "ID/ifname" in a
 * private node directory. ADD and CHECK leave it in place for the calls that
 * follow (opening a file costs less than making one); DEL, which ends the
 * attachment, removes it on release (state_unlock_remove: whoever waits on the
 * removed file notices and takes a new one). A holder that dies releases it
 * with its last descriptor; GC removes the files nobody holds.
 */
static int attach_lock(const struct cni_env *env, char *path, size_t size, int *ret_fd)
{
	int timeout = env_ms("UCNI_LOCK_TIMEOUT_MS", ATTACH_LOCK_TIMEOUT_MS, 0, ATTACH_LOCK_TIMEOUT_MAX_MS);
	int r = cni_attach_lock_path(env, path, size);
	if (r < 0)
		return r;
	char *slash = strrchr(path, '/');
	struct stat ds;
	*slash = '\0';
	/* A private directory of ours as state_mkdir leaves it needs no mkdir at all. */
	if (lstat(path, &ds) < 0 || !S_ISDIR(ds.st_mode) || ds.st_uid != geteuid() || (ds.st_mode & 022))
		r = state_mkdir(path, 0700);
	if (r < 0) {
		cni_fail(CNI_ERR_IO, r, "the attachment lock directory %s cannot be used", path);
		*slash = '/';
		return r;
	}
	*slash = '/';
	r = state_lock(path, timeout, ret_fd);
	if (r == -ETIMEDOUT)
		return cni_fail(CNI_ERR_TRY_AGAIN, r,
				"attachment (CNI_CONTAINERID \"%s\", CNI_IFNAME \"%s\") is busy: another ADD, CHECK or DEL "
				"of it still runs after %d ms; try again later",
				env->containerid, env->ifname, timeout);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "locking the attachment (CNI_CONTAINERID \"%s\", CNI_IFNAME \"%s\") at %s failed",
				env->containerid, env->ifname, path);
	return 0;
}

/*
 * GC: remove the lock files that nobody holds. ADD and CHECK leave their
 * file, and a DEL killed before it could remove its file leaves one; the next
 * call of that attachment takes it over, this is for attachments never called
 * again. A file is removed
 * only while this process holds its lock and it is still the one at that
 * name: whoever opened it meanwhile sees it gone and makes a new one (as after
 * state_unlock_remove). Best effort, no waiting.
 */
static void attach_lock_sweep(void)
{
	const char *dir = attach_lock_dir();
	struct stat ds;
	struct dirent *de;
	int n = 0;
	DIR *d = dir[0] == '/' ? opendir(dir) : NULL;
	if (!d)
		return;
	/* Only a directory of ours that no one else can write holds our locks. */
	if (fstat(dirfd(d), &ds) < 0 || ds.st_uid != geteuid() || (ds.st_mode & 022))
		goto out;
	while ((de = readdir(d))) {
		struct stat a, b;
		size_t len = strlen(de->d_name);
		if (len != SHA256_HEX_LEN + 5 || strcmp(de->d_name + SHA256_HEX_LEN, ".lock") != 0)
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* A file with a note (an ADD killed while it created a link) waits for its DEL. */
		if (state_flock(fd, LOCK_EX | LOCK_NB, 0) == 0 && fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && a.st_size == 0 &&
		    fstatat(dirfd(d), de->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino && unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
		close(fd);
	}
	if (n)
		log_debug("GC: removed %d attachment lock file(s) nobody held", n);
out:
	closedir(d);
}

int cni_attach_note(const struct cni_ctx *ctx, const char *note)
{
	size_t n = note ? strlen(note) : 0;
	if (!ctx->attach_locked || ctx->attach_fd < 0)
		return 0;
	if (n && pwrite(ctx->attach_fd, note, n, 0) != (ssize_t)n)
		return -errno;
	return ftruncate(ctx->attach_fd, (off_t)n) < 0 ? -errno : 0;
}

bool cni_attach_noted(const struct cni_ctx *ctx, const char *note)
{
	char buf[64];
	size_t n = strlen(note);
	if (!ctx->attach_locked || ctx->attach_fd < 0 || n >= sizeof(buf))
		return false;
	ssize_t got = pread(ctx->attach_fd, buf, sizeof(buf), 0);
	return got == (ssize_t)n && memcmp(buf, note, n) == 0;
}

/* The plugin's function for VERB; ADD's result into *RET_RES. */
static int verb_call(const struct cni_plugin *p, struct cni_ctx *ctx, enum cni_verb verb, cJSON **ret_res)
{
	switch (verb) {
	case CNI_ADD:
		return p->add(ctx, ret_res);
	case CNI_DEL:
		return p->del(ctx);
	case CNI_CHECK:
		return p->check(ctx);
	case CNI_STATUS:
		return p->status(ctx);
	case CNI_GC:
		return p->gc(ctx);
	default:
		return -EINVAL;
	}
}

int cni_main(const struct cni_plugin *p)
{
	struct cni_ctx ctx = {.plugin = p};
	const char *out_version = NULL;
	char *raw = NULL, lock_path[4096];
	size_t len = 0;
	int r, lock_fd = -1;

	/* A plugin we run (IPAM) may exit before reading all of its stdin: that is
	 * an answer to read, not a reason to die. Children get SIGPIPE back. */
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("CNI_COMMAND")) {
		fprintf(stderr, "%s\nCNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n",
			p->about);
		return 0;
	}
	r = cni_env_load(&ctx.env, p->known_args);
	if (r < 0 && cni_verb_parse(getenv("CNI_COMMAND")) < 0)
		goto out;

	if (ctx.env.verb == CNI_VERSION) {
		cJSON *v = cni_version_info();
		cni_print_json(v);
		cJSON_Delete(v);
		r = 0;
		goto out;
	}

	int rr = read_all(STDIN_FILENO, MAX_STDIN, &raw, &len);
	if (rr < 0) {
		r = rr == -EFBIG ? cni_fail(CNI_ERR_DECODE, rr, "network configuration on stdin is larger than %u bytes",
					    MAX_STDIN)
				 : cni_fail(CNI_ERR_IO, rr, "reading the network configuration from stdin failed");
		goto out;
	}
	rr = cni_conf_parse(&ctx.conf, raw, len);
	raw = NULL; /* owned by the config now */
	if (ctx.conf.version_str && cni_version_parse(ctx.conf.version_str) >= 0)
		out_version = ctx.conf.version_str;
	if (r < 0 || rr < 0) { /* environment errors first, as the reference plugins do */
		r = r < 0 ? r : rr;
		goto out;
	}

	if ((int)ctx.conf.version < min_version(ctx.env.verb)) {
		r = cni_fail(CNI_ERR_INCOMPATIBLE_VERSION, -ENOTSUP,
			     "%s is not supported by cniVersion %s (needs %s or newer)",
			     cni_verb_str(ctx.env.verb), ctx.conf.version_str,
			     cni_version_str(min_version(ctx.env.verb)));
		goto out;
	}

	if (!p->ipam && (ctx.env.verb == CNI_ADD || ctx.env.verb == CNI_CHECK || ctx.env.verb == CNI_DEL) &&
	    (r = attach_lock(&ctx.env, lock_path, sizeof(lock_path), &lock_fd)) < 0)
		goto out;
	ctx.attach_locked = lock_fd >= 0;
	ctx.attach_fd = lock_fd;

	{
		cJSON *res = NULL;
		r = verb_call(p, &ctx, ctx.env.verb, &res);
		if (r >= 0 && res)
			cni_print_json(res);
		cJSON_Delete(res);
		if (ctx.env.verb == CNI_GC && !p->ipam)
			attach_lock_sweep();
	}
out:
	if (r < 0) {
		if (!cni_failed())
			cni_fail(CNI_ERR_INTERNAL, r, "%s failed", p->name);
		cni_error_print(out_version);
	}
	fflush(stdout);
	/* DEL ends the attachment, and so does a failed ADD that left nothing behind
	 * (its lock file holds no note): both remove the lock file. */
	struct stat lst;
	if (lock_fd >= 0 && (ctx.env.verb == CNI_DEL ||
			     (ctx.env.verb == CNI_ADD && r < 0 && fstat(lock_fd, &lst) == 0 && lst.st_size == 0)))
		state_unlock_remove(lock_path, &lock_fd);
	else
		state_unlock(&lock_fd);
	free(raw);
	cni_conf_free(&ctx.conf);
	cni_env_free(&ctx.env);
	return r < 0 ? 1 : 0;
}

int cni_invoke(const struct cni_plugin *p, enum cni_verb verb, const char *data, size_t len, cJSON **ret_out)
{
	struct cni_ctx ctx = {.plugin = p, .attach_fd = -1};
	cJSON *out = NULL;
	char *raw = NULL;
	int r, rr;

	if (!p->ipam)
		return -EINVAL;
	/* cni_main's steps, in its order, for an IPAM plugin: no lock, nothing printed */
	r = cni_env_load_verb(&ctx.env, cni_verb_str(verb), p->known_args);
	if (verb == CNI_VERSION) {
		out = cni_version_info();
		r = out ? 0 : cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	if (len > MAX_STDIN) {
		rr = cni_fail(CNI_ERR_DECODE, -EFBIG, "network configuration on stdin is larger than %u bytes",
			      MAX_STDIN);
	} else if (!(raw = malloc(len + 1))) {
		rr = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	} else {
		memcpy(raw, data, len);
		raw[len] = '\0';
		log_pin(true);
		rr = cni_conf_parse(&ctx.conf, raw, len);
		log_pin(false);
		raw = NULL; /* owned by the config now */
	}
	if (r < 0 || rr < 0) {
		r = r < 0 ? r : rr;
		goto out;
	}
	if ((int)ctx.conf.version < min_version(verb)) {
		r = cni_fail(CNI_ERR_INCOMPATIBLE_VERSION, -ENOTSUP, "%s is not supported by cniVersion %s (needs %s or newer)",
			     cni_verb_str(verb), ctx.conf.version_str, cni_version_str(min_version(verb)));
		goto out;
	}
	r = verb_call(p, &ctx, verb, &out);
out:
	if (r < 0 && !cni_failed())
		cni_fail(CNI_ERR_INTERNAL, r, "%s failed", p->name);
	if (r >= 0 && ret_out)
		*ret_out = out;
	else
		cJSON_Delete(out);
	cni_conf_free(&ctx.conf);
	cni_env_free(&ctx.env);
	return r;
}

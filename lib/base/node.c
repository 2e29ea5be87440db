/* Node settings (/etc/ucni/node.json): the directories a network config may name files and
 * stores in, and the opening of such a file or directory without leaving them; which VFs
 * a config may name by deviceID. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ucni/jsoncheck.h"
#include "ucni/node.h"
#include "ucni/state.h"

#define NODE_SETTINGS_MAX (64 * 1024)
#define NODE_DIRS_MAX 16

struct dirs {
	char *dir[NODE_DIRS_MAX];
	size_t n;
};

static struct {
	bool loaded;
	int err;           /* the settings cannot be used: why[] says why */
	char why[512];
	struct dirs dirs[NODE_DIRS_KINDS];
	enum node_device_ids device_ids;
} node;

static char why_buf[1024];

static const char *const keys[NODE_DIRS_KINDS] = {[NODE_LOG_DIRS] = "logDirs", [NODE_CONFIG_DIRS] = "configDirs",
						   [NODE_DEVINFO_DIRS] = "devinfoDirs", [NODE_DATA_DIRS] = "dataDirs"};
static const char *const defaults[NODE_DIRS_KINDS] = {[NODE_LOG_DIRS] = NODE_LOG_DIR_DEFAULT,
						       [NODE_CONFIG_DIRS] = NODE_CONFIG_DIR_DEFAULT,
						       [NODE_DEVINFO_DIRS] = NODE_DEVINFO_DIR_DEFAULT,
						       [NODE_DATA_DIRS] = NODE_DATA_DIR_DEFAULT};
static const char *const whats[NODE_DIRS_KINDS] = {[NODE_LOG_DIRS] = "log", [NODE_CONFIG_DIRS] = "config",
						    [NODE_DEVINFO_DIRS] = "device-info", [NODE_DATA_DIRS] = "data"};

int node_path_normalize(const char *path, char *buf, size_t size)
{
	size_t n = 0;
	if (!path || path[0] != '/' || size < 2)
		return -EINVAL;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (n + 1 + len + 1 > size)
			return -ENAMETOOLONG;
		buf[n++] = '/';
		memcpy(buf + n, p, len);
		n += len;
		p += len;
	}
	if (n == 0)
		buf[n++] = '/';
	buf[n] = 0;
	return 0;
}

void node_reset(void)
{
	for (int k = 0; k < NODE_DIRS_KINDS; k++) {
		for (size_t i = 0; i < node.dirs[k].n; i++)
			free(node.dirs[k].dir[i]);
		node.dirs[k].n = 0;
	}
	node.loaded = false;
	node.err = 0;
	node.why[0] = 0;
	node.device_ids = NODE_DEVICE_IDS_ANY;
}

static int settings_fail(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int settings_fail(const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(node.why, sizeof(node.why), "cannot be checked: node settings %s %s", path, msg);
	node.err = -EPERM;
	return -EPERM;
}

static int add_dir(struct dirs *d, const char *s)
{
	char buf[PATH_MAX];
	if (d->n >= NODE_DIRS_MAX || node_path_normalize(s, buf, sizeof(buf)) < 0 || !strcmp(buf, "/"))
		return -EINVAL;
	if (!(d->dir[d->n] = strdup(buf)))
		return -ENOMEM;
	d->n++;
	return 0;
}

static int parse_settings(const char *path, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *v;
	int r = 0;
	if (!cJSON_IsObject(root)) {
		r = settings_fail(path, "is not a JSON object");
		goto out;
	}
	if (json_find_nul(text, len, NULL)) {
		r = settings_fail(path, "has a string holding an escaped NUL (\\u0000)");
		goto out;
	}
	cJSON_ArrayForEach(v, root) {
		int k = -1;
		if (!strcmp(v->string, NODE_DEVICE_IDS_KEY)) {
			if (cJSON_IsString(v) && !strcmp(v->valuestring, "any"))
				node.device_ids = NODE_DEVICE_IDS_ANY;
			else if (cJSON_IsString(v) && !strcmp(v->valuestring, "pools"))
				node.device_ids = NODE_DEVICE_IDS_POOLS;
			else {
				r = settings_fail(path, "has \"%s\" that is neither \"any\" nor \"pools\"", v->string);
				goto out;
			}
			continue;
		}
		for (int i = 0; i < NODE_DIRS_KINDS && k < 0; i++)
			if (!strcmp(v->string, keys[i]))
				k = i;
		if (k < 0) {
			r = settings_fail(path, "has an unknown key \"%s\" (expected logDirs, configDirs, devinfoDirs, dataDirs, "
					  NODE_DEVICE_IDS_KEY ")", v->string);
			goto out;
		}
		const cJSON *e;
		if (!cJSON_IsArray(v)) {
			r = settings_fail(path, "has \"%s\" that is not an array of directories", v->string);
			goto out;
		}
		/* given: it replaces the default (an empty list allows nothing) */
		for (size_t i = 0; i < node.dirs[k].n; i++)
			free(node.dirs[k].dir[i]);
		node.dirs[k].n = 0;
		cJSON_ArrayForEach(e, v)
			if (!cJSON_IsString(e) || add_dir(&node.dirs[k], e->valuestring) < 0) {
				r = settings_fail(path, "has \"%s\" that is not a list of at most 16 absolute directories "
					      "other than / without \"..\"", v->string);
				goto out;
			}
	}
out:
	cJSON_Delete(root);
	return r;
}

/* Loads the settings once. Absent file: the defaults. A file that is not a root-owned
 * regular file writable by root alone is refused: it widens what a tenant may name. */
static int node_load(void)
{
	char *buf = NULL;
	struct stat st;
	int r = 0, fd = -1;

	if (node.loaded)
		return node.err;
	node.loaded = true;
	for (int k = 0; k < NODE_DIRS_KINDS; k++)
		if (add_dir(&node.dirs[k], defaults[k]) < 0)
			return node.err = -ENOMEM;
	const char *path = getenv(NODE_SETTINGS_ENV);
	if (!path || !*path)
		path = NODE_SETTINGS_PATH;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return settings_fail(path, "cannot be opened: %s", strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		r = settings_fail(path, "cannot be read: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		r = settings_fail(path, "is not a regular file owned by root and writable by root alone");
		goto out;
	}
	if (st.st_size > NODE_SETTINGS_MAX) {
		r = settings_fail(path, "is larger than 64 KiB");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = node.err = -ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = settings_fail(path, "cannot be read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	r = parse_settings(path, buf, got);
out:
	free(buf);
	close(fd);
	return r;
}

const char *node_dirs_str(enum node_dirs kind)
{
	static char buf[1024];
	size_t n = 0;
	buf[0] = 0;
	if (node_load() < 0)
		return buf;
	for (size_t i = 0; i < node.dirs[kind].n && n < sizeof(buf); i++) {
		int k = snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", node.dirs[kind].dir[i]);
		n += k > 0 ? (size_t)k : 0;
	}
	return buf;
}

static int refuse(const char **ret_why, const char *why)
{
	*ret_why = why;
	return -EPERM;
}

/* The directory that holds REL (normalized, relative, not empty) beneath the admin's
 * directory DIR, which itself may be reached through links: every component below DIR
 * walked by state_walk() with FLAGS, never through a link, made with MODE when missing
 * (0: none). *ret_dirfd, and *ret_base pointing into REL at its last component. */
static int open_parent_beneath(const char *dir, const char *rel, mode_t mode, unsigned flags, int *ret_dirfd,
			       const char **ret_base, const char **ret_why)
{
	char sub[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	snprintf(sub, sizeof(sub), "%.*s", slash ? (int)(slash - rel) : 0, rel);
	int top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	int r = state_walk(top, sub, mode, flags, ret_dirfd);
	close(top);
	if (r == -ELOOP || r == -ENOTDIR)
		return refuse(ret_why, "lies beneath a symbolic link or a file that is not a directory");
	if (r == -EPERM)
		return refuse(ret_why, "lies in a directory that belongs to another user or that group or others may write");
	if (r < 0)
		return r;
	*ret_base = slash ? slash + 1 : rel;
	return 0;
}

/* REL (normalized, relative, not empty) beneath the directory DIR, never through a link. */
static int open_beneath(const char *dir, const char *rel, int flags, mode_t mode, int *ret_fd,
			const char **ret_why)
{
	struct stat st;
	const char *part;
	int fd = -1, dfd, r = open_parent_beneath(dir, rel, 0, 0, &dfd, &part, ret_why);
	if (r < 0)
		return r;
	/* Look before opening: opening a FIFO or a device has effects of its own. */
	if (fstatat(dfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode)) {
			r = refuse(ret_why, "is a symbolic link");
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			r = refuse(ret_why, "is not a regular file");
			goto out;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = openat(dfd, part, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0) {
		r = errno == ELOOP ? refuse(ret_why, "is a symbolic link")
		    : errno == ENXIO || errno == EISDIR ? refuse(ret_why, "is not a regular file") : -errno;
		goto out;
	}
	/* and again on what was opened: the name may have been replaced in between */
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = refuse(ret_why, "is not a regular file");
		goto out;
	}
	if (st.st_nlink > 1) {
		r = refuse(ret_why, "has more than one hard link");
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}

/* PATH normalized into NORM (PATH_MAX), and the allowed directory of KIND it lies in (or is):
 * *ret_dir, and the rest of NORM below it ("" for the directory itself). */
static int node_locate(enum node_dirs kind, const char *path, char *norm, const char **ret_dir,
		       const char **ret_rel, const char **ret_why)
{
	*ret_why = NULL;
	if (node_load() < 0)
		return refuse(ret_why, node.why);
	int r = node_path_normalize(path, norm, PATH_MAX);
	if (r == -ENAMETOOLONG)
		return refuse(ret_why, "is too long");
	if (r < 0)
		return refuse(ret_why, "must be an absolute path without \"..\" or control characters");
	const struct dirs *d = &node.dirs[kind];
	for (size_t i = 0; i < d->n; i++) {
		size_t len = strlen(d->dir[i]);
		if (strncmp(norm, d->dir[i], len) != 0 || (norm[len] != '/' && norm[len] != 0))
			continue;
		*ret_dir = d->dir[i];
		*ret_rel = norm[len] ? norm + len + 1 : norm + len;
		return 0;
	}
	snprintf(why_buf, sizeof(why_buf), "is outside the %s directories the node allows (%s%s)", whats[kind],
		 d->n ? "" : "none", node_dirs_str(kind));
	return refuse(ret_why, why_buf);
}

int node_device_ids(enum node_device_ids *ret, const char **ret_why)
{
	*ret_why = NULL;
	if (node_load() < 0) {
		*ret_why = node.why;
		return -EPERM;
	}
	*ret = node.device_ids;
	return 0;
}

int node_open(enum node_dirs kind, const char *path, int flags, mode_t mode, int *ret_fd,
	      const char **ret_why)
{
	char norm[PATH_MAX];
	const char *dir, *rel;
	int r = node_locate(kind, path, norm, &dir, &rel, ret_why);
	if (r < 0)
		return r;
	if (!*rel)
		return refuse(ret_why, "is not a regular file");
	return open_beneath(dir, rel, flags, mode, ret_fd, ret_why);
}

int node_path_check(enum node_dirs kind, const char *path, const char **ret_why)
{
	char norm[PATH_MAX];
	const char *dir, *rel;
	int r = node_locate(kind, path, norm, &dir, &rel, ret_why);
	if (r < 0)
		return r;
	return *rel ? 0 : refuse(ret_why, "is not a regular file");
}

int node_open_parent(enum node_dirs kind, const char *path, int create, int *ret_dirfd, char *ret_name,
		     const char **ret_why)
{
	char norm[PATH_MAX];
	const char *dir, *rel;
	int r = node_locate(kind, path, norm, &dir, &rel, ret_why);
	if (r < 0)
		return r;
	if (!*rel)
		return refuse(ret_why, "is not a regular file");
	const char *slash = strrchr(rel, '/'), *base;
	if (strlen(slash ? slash + 1 : rel) > NAME_MAX)
		return refuse(ret_why, "has a name that is too long");
	/* the admin's directory itself may be reached through links */
	if (create && (r = state_mkdir(dir, 0755)) < 0 && r != -EPERM && r != -ENOTDIR)
		return r;
	int fd;
	if ((r = open_parent_beneath(dir, rel, create ? 0755 : 0, STATE_WALK_JUDGE, &fd, &base, ret_why)) < 0)
		return r;
	strcpy(ret_name, base);
	*ret_dirfd = fd;
	return 0;
}

/* The directory DIR of the node's own (links allowed), made with its parents when missing. */
static int admin_dir_open(const char *dir, bool create, mode_t mode, int *ret_fd)
{
	char buf[PATH_MAX];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		size_t n = strlen(dir);
		if (n >= sizeof(buf))
			return -ENAMETOOLONG;
		memcpy(buf, dir, n + 1);
		for (char *p = buf + 1;; p++) {
			if (*p && *p != '/')
				continue;
			char c = *p;
			*p = 0;
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -errno;
			if (!(*p = c))
				break;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int node_open_dir(enum node_dirs kind, const char *path, bool create, mode_t mode, int *ret_fd,
		  const char **ret_why)
{
	char norm[PATH_MAX];
	const char *dir, *rel;
	int dfd = -1, r = node_locate(kind, path, norm, &dir, &rel, ret_why);
	if (r < 0)
		return r;
	/* Judged whole before anything is made. */
	for (const char *p = rel; *p;) {
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX)
			return refuse(ret_why, "is too long");
		p += len + (p[len] == '/');
	}
	if ((r = admin_dir_open(dir, create, mode, &dfd)) < 0)
		return r;
	/* Beneath it, one component at a time and never through a link: a component is made
	 * only when missing, and then so is every one after it (nothing is made before a
	 * refusal). */
	int fd;
	r = state_walk(dfd, rel, create ? mode : 0, 0, &fd);
	close(dfd);
	if (r == -ELOOP || r == -ENOTDIR)
		return refuse(ret_why, "passes through a symbolic link or a file that is not a directory");
	if (r < 0)
		return r;
	*ret_fd = fd;
	return 0;
}

int node_open_regular(const char *path, int *ret_fd, const char **ret_why)
{
	struct stat st;
	*ret_why = NULL;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? refuse(ret_why, "is not a regular file") : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

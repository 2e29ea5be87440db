/* The served marker: <state dir>/serve.json names the `devmgr serve` process and the pools
 * whose VFs it hands to the kubelet, so that `devmgr alloc` refuses them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "dp.h"
#include "internal.h"
#include "ucni/io.h"
#include "ucni/state.h"

#define SERVED_FILE "serve.json"
#define SERVED_TMP ".serve.json.tmp"
#define SERVED_MAX (1 << 20)

/* The start time of process PID (field 22 of /proc/<pid>/stat, clock ticks since boot):
 * a pid the kernel gives again to a later process has a later one. -ESRCH when gone. */
static int proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = 0;
	/* the command name is in parentheses and may hold anything: count from the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* p is at the space before field 3 (the state) */
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EIO;
	}
	if (sscanf(p, " %llu", ret) != 1)
		return -EIO;
	return 0;
}

static int open_state_dir(const char *state_dir, bool create, int *ret_fd)
{
	return state_open_dir(state_dir ? state_dir : DM_DEFAULT_STATE_DIR, create ? 0700 : 0, ret_fd);
}

int dp_served_mark(const char *state_dir, const dp_set *s, pid_t pid)
{
	unsigned long long start;
	int fd, r;
	if (!s || pid <= 0)
		return -EINVAL;
	if ((r = proc_start_time(pid, &start)) < 0)
		return r;
	cJSON *root = cJSON_CreateObject(), *pools = root ? cJSON_AddArrayToObject(root, "pools") : NULL;
	bool ok = pools && cJSON_AddNumberToObject(root, "pid", pid) &&
		  cJSON_AddNumberToObject(root, "startTime", (double)start);
	for (size_t i = 0; ok && i < s->n; i++) {
		cJSON *p = cJSON_CreateObject();
		ok = p && cJSON_AddItemToArray(pools, p) && cJSON_AddStringToObject(p, "name", s->res[i].pool) &&
		     cJSON_AddStringToObject(p, "resource", s->res[i].name);
	}
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	if ((r = open_state_dir(state_dir, true, &fd)) == 0) {
		r = state_write_at(fd, SERVED_TMP, fd, SERVED_FILE, text, strlen(text), 0600, STATE_NO_SYNC);
		close(fd);
	}
	free(text);
	return r;
}

int dp_served_clear(const char *state_dir)
{
	int fd, r = open_state_dir(state_dir, false, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = unlinkat(fd, SERVED_FILE, 0) < 0 && errno != ENOENT ? -errno : 0;
	close(fd);
	return r;
}

/* The marker's record when its process still runs: 1 and *RET, 0 when there is none or
 * its process is gone (a pid given again counts as gone), -errno. */
static int served_load(const char *state_dir, cJSON **ret)
{
	char *text = NULL;
	size_t len;
	struct stat st;
	int fd, r = open_state_dir(state_dir, false, &fd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	int f = openat(fd, SERVED_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	r = f < 0 ? (errno == ENOENT ? 0 : errno == ELOOP ? -EPROTO : -errno)
	    : fstat(f, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EPROTO : read_all(f, SERVED_MAX, &text, &len);
	if (f >= 0)
		close(f);
	close(fd);
	if (r <= 0 && !text)
		return r;
	cJSON *j = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(j, "pid");
	const cJSON *start = cJSON_GetObjectItemCaseSensitive(j, "startTime");
	if (!cJSON_IsNumber(pid) || !cJSON_IsNumber(start) || pid->valuedouble < 1 || pid->valuedouble > INT_MAX ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "pools"))) {
		cJSON_Delete(j);
		return -EBADMSG;
	}
	unsigned long long now;
	if (proc_start_time((pid_t)pid->valuedouble, &now) < 0 || (double)now != start->valuedouble) {
		cJSON_Delete(j);
		return 0;
	}
	*ret = j;
	return 1;
}

int dm_pool_served(const char *state_dir, const char *pool, char *ret_resource, size_t size)
{
	cJSON *j = NULL;
	if (!pool || (ret_resource && !size))
		return -EINVAL;
	int r = served_load(state_dir, &j);
	if (r <= 0)
		return r;
	const cJSON *p;
	r = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "pools")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(p, "resource");
		if (!cJSON_IsString(name) || strcmp(name->valuestring, pool))
			continue;
		if (ret_resource)
			str_copy(ret_resource, size, cJSON_IsString(res) ? res->valuestring : "");
		r = 1;
		break;
	}
	cJSON_Delete(j);
	return r;
}

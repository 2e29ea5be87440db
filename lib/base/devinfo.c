/* Device-info files (Device Information Specification 1.1.0): the pci shape, written or
 * merged atomically, and removed beneath the node's devinfoDirs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ucni/devinfo.h"
#include "ucni/io.h"
#include "ucni/node.h"
#include "ucni/state.h"

#define DEVINFO_MAX (64 * 1024)

/* The existing file NAME as JSON: 1 and *RET, 0 when there is none, or -errno. */
static int read_existing(int dirfd, const char *name, bool parse, cJSON **ret)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (!parse)
		return 1;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : read_all(fd, DEVINFO_MAX, &text, &len);
	close(fd);
	if (r < 0)
		return r;
	cJSON *j = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -EBADMSG;
	}
	*ret = j;
	return 1;
}

static int set_str(cJSON *o, const char *key, const char *value)
{
	cJSON *v = cJSON_CreateString(value);
	if (!v)
		return -ENOMEM;
	if (cJSON_HasObjectItem(o, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(o, key, v) ? 0 : -ENOMEM;
	return cJSON_AddItemToObject(o, key, v) ? 0 : -ENOMEM;
}

int devinfo_write_pci(int dirfd, const char *name, const char *pci, const char *pf, const char *rdma, bool merge)
{
	cJSON *root = NULL;
	char tmp[NAME_MAX + 1];
	if (!name || !*name || strchr(name, '/') || !pci || !*pci)
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s", name) >= sizeof(tmp) - 24)
		return -ENAMETOOLONG;
	int existed = read_existing(dirfd, name, merge, &root);
	if (existed < 0)
		return existed;
	if (!root && !(root = cJSON_CreateObject()))
		return -ENOMEM;
	int r = set_str(root, "type", "pci");
	if (r == 0)
		r = set_str(root, "version", DEVINFO_VERSION);
	cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "pci");
	if (r == 0 && !cJSON_IsObject(p)) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "pci");
		p = cJSON_AddObjectToObject(root, "pci");
		if (!p)
			r = -ENOMEM;
	}
	if (r == 0)
		r = set_str(p, "pci-address", pci);
	if (r == 0 && pf && *pf)
		r = set_str(p, "pf-pci-address", pf);
	if (r == 0 && rdma && *rdma)
		r = set_str(p, "rdma-device", rdma);
	char *text = r == 0 ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (r < 0)
		return r;
	if (!text)
		return -ENOMEM;
	/* no fsync: the file describes an attachment, which ends with the machine (it lives on /run) */
	r = state_write_at(dirfd, tmp, dirfd, name, text, strlen(text), 0444, STATE_TMP_UNIQUE | STATE_NO_SYNC);
	free(text);
	return r < 0 ? r : existed > 0;
}

int devinfo_remove(const char *path, const char **ret_why)
{
	char name[NAME_MAX + 1];
	const char *why = NULL;
	struct stat st;
	int dfd, r;

	*ret_why = NULL;
	if (!path || !*path)
		return -EINVAL;
	/* the node's rules as they are now: a directory no longer allowed is left alone */
	r = node_open_parent(NODE_DEVINFO_DIRS, path, 0, &dfd, name, &why);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		if (r == -EPERM)
			*ret_why = why;
		return r;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = errno == ENOENT ? 0 : -errno;
	else if (S_ISLNK(st.st_mode)) {
		/* not what ADD wrote (it refuses a link): left, and nothing it names is touched */
		r = -ELOOP;
		*ret_why = "is a symbolic link (not followed)";
	} else if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		*ret_why = "is not a regular file";
	}
	/* unlinkat() follows no link: a link swapped in since fstatat() goes, not what it names */
	else if (unlinkat(dfd, name, 0) < 0)
		r = errno == ENOENT ? 0 : -errno;
	else
		r = 1;
	close(dfd);
	return r;
}

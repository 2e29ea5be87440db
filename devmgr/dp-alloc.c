/* The device plugin's Allocate: the container's environment (PCIDEVICE_*), its vfio device
 * nodes, and each VF's device-info file under <devinfo dir>/dp/. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "dp.h"
#include "internal.h"
#include "ucni/devinfo.h"
#include "ucni/state.h"

#define VFIO_CONTAINER "/dev/vfio/vfio"

void dp_alloc_free(dp_alloc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_env; i++) {
		free(a->env[i].key);
		free(a->env[i].value);
	}
	free(a->env);
	free(a->spec);
	memset(a, 0, sizeof(*a));
}

int dp_env_name(const char *resource, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "PCIDEVICE_%s", resource) >= size)
		return -ENAMETOOLONG;
	for (char *p = buf; *p; p++)
		*p = *p == '.' || *p == '/' || *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return 0;
}

int dp_devinfo_name(const dp_resource *r, const char *id, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s-%s-device.json", r->name, id) >= size)
		return -ENAMETOOLONG;
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = '-';
	return 0;
}

/* The directory <devinfo_dir>/dp: the admin's directory (made 0755 with its parents when
 * missing; its last component must not be a symbolic link), then dp/ beneath it without
 * following any link. CREATE false: -ENOENT when either is missing. */
static int open_dp_dir(const char *devinfo_dir, bool create, int *ret_fd)
{
	if (!devinfo_dir || !*devinfo_dir)
		devinfo_dir = DEVINFO_DIR_DEFAULT;
	_cleanup_close_ int fd = -1;
	int r = state_open_dir(devinfo_dir, create ? 0755 : 0, &fd);
	return r < 0 ? r : state_open_subdir(fd, "dp", create ? 0755 : 0, ret_fd);
}

static int add_env(dp_alloc *a, const char *key, char *value)
{
	dp_env *n = realloc(a->env, (a->n_env + 1) * sizeof(*n));
	if (!n) {
		free(value);
		return -ENOMEM;
	}
	a->env = n;
	n[a->n_env].key = strdup(key);
	n[a->n_env].value = value;
	if (!n[a->n_env].key) {
		free(value);
		return -ENOMEM;
	}
	a->n_env++;
	return 0;
}

static int add_spec(dp_alloc *a, const char *path)
{
	for (size_t i = 0; i < a->n_spec; i++)
		if (!strcmp(a->spec[i].host, path))
			return 0;
	dp_devspec *n = realloc(a->spec, (a->n_spec + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	a->spec = n;
	dp_devspec *s = &n[a->n_spec++];
	memset(s, 0, sizeof(*s));
	str_copy(s->host, sizeof(s->host), path);
	str_copy(s->container, sizeof(s->container), path);
	strcpy(s->perms, "rw");
	return 0;
}

static bool is_vfio(const dp_device *d)
{
	return !strcmp(d->driver, "vfio-pci") && d->iommu_group >= 0;
}

/* <env>_INFO: per device {"generic": {"deviceID"}, "vfio": {"mount", "dev-mount"}}, as the
 * SR-IOV network device plugin shapes it. It adds "rdma" only for pools with the isRdma
 * selector (with the RDMA character devices), which devmgr refuses: so never here; the
 * RDMA device's name is in the device-info file. */
static char *info_json(const dp_device *const *devs, size_t n)
{
	char node[32];
	cJSON *root = cJSON_CreateObject();
	for (size_t i = 0; root && i < n; i++) {
		const dp_device *d = devs[i];
		cJSON *o = cJSON_AddObjectToObject(root, d->id), *g = o ? cJSON_AddObjectToObject(o, "generic") : NULL;
		if (!g || !cJSON_AddStringToObject(g, "deviceID", d->id))
			goto fail;
		if (is_vfio(d)) {
			cJSON *v = cJSON_AddObjectToObject(o, "vfio");
			snprintf(node, sizeof(node), "/dev/vfio/%d", d->iommu_group);
			if (!v || !cJSON_AddStringToObject(v, "dev-mount", node) ||
			    !cJSON_AddStringToObject(v, "mount", VFIO_CONTAINER))
				goto fail;
		}
	}
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	return text;
fail:
	cJSON_Delete(root);
	return NULL;
}

/* The devices of IDS, all known and healthy, into DEVS; else the first that is not. */
static int check_ids(const dp_resource *r, const char *const *ids, size_t n, const dp_device **devs, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const dp_device *d = ids[i] ? dp_resource_device(r, ids[i]) : NULL;
		if (!d) {
			errbuf_set(err, errlen, "device %s is not a device of resource %s", ids[i] ? ids[i] : "(null)",
				   r->name);
			return -ENOENT;
		}
		if (!d->healthy) {
			errbuf_set(err, errlen, "device %s of resource %s is unhealthy (%s)", d->id, r->name,
				   d->why ? d->why : "unknown");
			return -EBUSY;
		}
		for (size_t j = 0; j < i; j++)
			if (devs[j] == d) {
				errbuf_set(err, errlen, "device %s is requested twice", d->id);
				return -EINVAL;
			}
		devs[i] = d;
	}
	return 0;
}

/* Everything Allocate checks before it writes: the IDs (into DEVS), every device-info file
 * name, and the environment variable's name (into KEY, DP_KEY_MAX bytes). */
#define DP_KEY_MAX (DP_RESOURCE_MAX + 32)
static int check_request(const dp_resource *r, const char *const *ids, size_t n, const dp_device **devs,
			 char *key, char *err, size_t errlen)
{
	char name[NAME_MAX + 1];
	int e;
	if ((e = check_ids(r, ids, n, devs, err, errlen)) < 0)
		return e;
	for (size_t i = 0; i < n; i++)
		if ((e = dp_devinfo_name(r, devs[i]->id, name, sizeof(name))) < 0) {
			errbuf_set(err, errlen, "device %s: its device-info file name is too long", devs[i]->id);
			return e;
		}
	if ((e = dp_env_name(r->name, key, DP_KEY_MAX - 5)) < 0) {
		errbuf_set(err, errlen, "resource %s: its environment variable name is too long", r->name);
		return e;
	}
	return 0;
}

int dp_allocate(const dp_resource *r, const char *const *ids, size_t n, const char *devinfo_dir, dp_alloc *ret,
		char *err, size_t errlen)
{
	char key[DP_KEY_MAX], name[NAME_MAX + 1];
	dp_alloc a = { 0 };
	int fd = -1, e;

	if (!r || !ret || (n && !ids))
		return -EINVAL;
	_cleanup_free_ const dp_device **devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	/* every ID is checked, and every name made, before anything is written */
	if ((e = check_request(r, ids, n, devs, key, err, errlen)) < 0)
		return e;

	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(devs[i]->id) + 1;
	char *list = malloc(len);
	if (!list)
		return -ENOMEM;
	list[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(list, ",");
		strcat(list, devs[i]->id);
	}
	if ((e = add_env(&a, key, list)) < 0)
		goto fail;
	char *info = info_json(devs, n);
	if (!info) {
		e = -ENOMEM;
		goto fail;
	}
	strcat(key, "_INFO");
	if ((e = add_env(&a, key, info)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (is_vfio(devs[i])) {
			char node[32];
			snprintf(node, sizeof(node), "/dev/vfio/%d", devs[i]->iommu_group);
			if ((e = add_spec(&a, VFIO_CONTAINER)) < 0 || (e = add_spec(&a, node)) < 0)
				goto fail;
		}

	if (n && (e = open_dp_dir(devinfo_dir, true, &fd)) < 0) {
		errbuf_set(err, errlen, "device-info directory %s/dp: %s", devinfo_dir ? devinfo_dir : DEVINFO_DIR_DEFAULT,
			   strerror(-e));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		(void)dp_devinfo_name(r, devs[i]->id, name, sizeof(name));
		if ((e = devinfo_write_pci(fd, name, devs[i]->id, devs[i]->pf, devs[i]->rdma, false)) < 0) {
			errbuf_set(err, errlen, "device-info file %s: %s", name, strerror(-e));
			goto fail;
		}
	}
	if (fd >= 0)
		close(fd);
	*ret = a;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	dp_alloc_free(&a);
	return e;
}

int dp_allocate_check(const dp_resource *r, const char *const *ids, size_t n, char *err, size_t errlen)
{
	char key[DP_KEY_MAX];
	if (!r || (n && !ids))
		return -EINVAL;
	_cleanup_free_ const dp_device **devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	return check_request(r, ids, n, devs, key, err, errlen);
}

/* The device-info files of s's devices, except those now also has (same resource name and
 * device ID; now NULL: all of them). */
static int remove_files(const dp_set *s, const dp_set *now, const char *devinfo_dir)
{
	char name[NAME_MAX + 1];
	int fd, r = 0;
	if (!s)
		return -EINVAL;
	int e = open_dp_dir(devinfo_dir, false, &fd);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return e;
	for (size_t i = 0; i < s->n; i++) {
		const dp_resource *kept = now ? dp_set_find(now, s->res[i].name) : NULL;
		for (size_t j = 0; j < s->res[i].n; j++) {
			if (kept && dp_resource_device(kept, s->res[i].dev[j].id))
				continue;
			if (dp_devinfo_name(&s->res[i], s->res[i].dev[j].id, name, sizeof(name)) == 0 &&
			    unlinkat(fd, name, 0) < 0 && errno != ENOENT && r == 0)
				r = -errno;
		}
	}
	close(fd);
	return r;
}

int dp_devinfo_remove(const dp_set *s, const char *devinfo_dir)
{
	return remove_files(s, NULL, devinfo_dir);
}

int dp_devinfo_remove_dropped(const dp_set *before, const dp_set *now, const char *devinfo_dir)
{
	if (!now)
		return -EINVAL;
	return remove_files(before, now, devinfo_dir);
}

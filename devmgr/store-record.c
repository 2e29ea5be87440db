/* The allocation records: one JSON file per allocated VF, vfs/<pci>.json, its codec, its
 * reads and atomic writes, and the record-level operations (get, set data, list). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "store.h"
#include "ucni/fault.h"
#include "ucni/jsoncheck.h"
#include "ucni/state.h"

#define RECORD_FORMAT "ucni-devmgr-allocation"
#define RECORD_VERSION 1
#define RECORD_MAX (1 << 20)

dm_record *dm_record_free(dm_record *r)
{
	if (!r)
		return NULL;
	free(r->pool);
	free(r->owner);
	free(r->ifname);
	free(r->netns);
	free(r->data);
	free(r);
	return NULL;
}

void dm_record_list_free(dm_record **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		dm_record_free(list[i]);
	free(list);
}

static const char *json_str(const cJSON *o, const char *k, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

/* A whole number from 0 to below 10^15: no undefined conversion of an out-of-range double
 * to an integer type, and cJSON writes it back exactly (it prints 15 significant digits).
 * Times, pids and nsfs inodes are far below. Both limits found by fuzzing. */
static bool json_uint(const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	return d >= 0 && d < 1e15 && d == (double)(uint64_t)d;
}

/* A namespace cookie as the record writes it: a decimal string (a JSON number would pass
 * through a double and lose digits above 2^53), 1 to 2^64-1, no sign, no leading zero. */
static bool parse_cookie(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	if (!s[0] || s[0] == '0' || strlen(s) > 20)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

int record_from_json(const char *pci, const char *text, dm_record **ret)
{
	bool bad = false;
	/* a string cut at \u0000 would name another owner or netns */
	cJSON *o = text && !json_find_nul(text, strlen(text), NULL) ? cJSON_Parse(text) : NULL;
	if (!o)
		return -EBADMSG;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -EBADMSG;
	}
	const char *fmt = json_str(o, "format", &bad);
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	if (!fmt || strcmp(fmt, RECORD_FORMAT) || !cJSON_IsNumber(ver) || ver->valueint != RECORD_VERSION) {
		cJSON_Delete(o);
		return -EPROTO;
	}
	dm_record *r = calloc(1, sizeof(*r));
	if (!r) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	const char *addr = json_str(o, "pciAddress", &bad), *owner = json_str(o, "owner", &bad);
	const char *ifname = json_str(o, "ifname", &bad), *netns = json_str(o, "netns", &bad);
	const cJSON *ino = cJSON_GetObjectItemCaseSensitive(o, "netnsInode");
	const char *cookie = json_str(o, "netnsCookie", &bad);
	uint64_t cookie_v = 0;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
	if (bad || !addr || strcmp(addr, pci) || !dm_owner_id_valid(owner) || (ifname && !dm_ifname_valid(ifname)) ||
	    (netns && netns[0] != '/') || !json_uint(t) || (ino && !json_uint(ino)) || (pid && !json_uint(pid)) ||
	    (cookie && !parse_cookie(cookie, &cookie_v)))
		goto bad;
	str_copy(r->pci, sizeof(r->pci), pci);
	r->pool = dup_opt(json_str(o, "pool", &bad));
	r->owner = strdup(owner);
	r->ifname = dup_opt(ifname);
	r->netns = dup_opt(netns);
	r->netns_ino = ino && netns ? (uint64_t)ino->valuedouble : 0; /* only with its netns */
	r->netns_cookie = netns ? cookie_v : 0;
	r->time = (int64_t)t->valuedouble;
	r->pid = pid ? (pid_t)pid->valueint : 0;
	bool nomem = false;
	if (data && !cJSON_IsNull(data)) {
		r->data = cJSON_PrintUnformatted(data);
		nomem = !r->data;
		if (r->data && !strcmp(r->data, "null")) /* 1e999 prints as null: no data */
			r->data = (free(r->data), NULL);
	}
	cJSON_Delete(o);
	if (bad || nomem || !r->owner || (ifname && !r->ifname) || (netns && !r->netns)) {
		dm_record_free(r);
		return bad ? -EBADMSG : -ENOMEM;
	}
	*ret = r;
	return 0;
bad:
	cJSON_Delete(o);
	free(r);
	return -EBADMSG;
}

int store_record_read(dm_store *s, const char *pci, dm_record **ret)
{
	char name[DM_PCI_ADDR_MAX + 8];
	struct stat st;
	snprintf(name, sizeof(name), "%s.json", pci);
	_cleanup_close_ int fd = openat(s->vfsfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > RECORD_MAX)
		return -EBADMSG;
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return record_from_json(pci, buf, ret);
}

char *record_to_json(const dm_record *r)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "format", RECORD_FORMAT);
	cJSON_AddNumberToObject(o, "version", RECORD_VERSION);
	cJSON_AddStringToObject(o, "pciAddress", r->pci);
	if (r->pool)
		cJSON_AddStringToObject(o, "pool", r->pool);
	cJSON_AddStringToObject(o, "owner", r->owner);
	if (r->ifname)
		cJSON_AddStringToObject(o, "ifname", r->ifname);
	if (r->netns) {
		cJSON_AddStringToObject(o, "netns", r->netns);
		cJSON_AddNumberToObject(o, "netnsInode", (double)r->netns_ino);
		if (r->netns_cookie) {
			char buf[24];
			snprintf(buf, sizeof(buf), "%" PRIu64, r->netns_cookie);
			cJSON_AddStringToObject(o, "netnsCookie", buf);
		}
	}
	cJSON_AddNumberToObject(o, "time", (double)r->time);
	cJSON_AddNumberToObject(o, "pid", r->pid);
	if (r->data) {
		cJSON *d = cJSON_Parse(r->data);
		if (!d) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToObject(o, "data", d);
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int store_record_write(dm_store *s, const dm_record *r)
{
	char tmp[DM_PCI_ADDR_MAX + 8], name[DM_PCI_ADDR_MAX + 8];
	_cleanup_free_ char *text = record_to_json(r);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	char *t = realloc(text, len + 2);
	if (!t)
		return -ENOMEM;
	text = t;
	memcpy(text + len, "\n", 2);
	snprintf(tmp, sizeof(tmp), ".tmp.%s", r->pci);
	snprintf(name, sizeof(name), "%s.json", r->pci);
	int e = state_write_at(s->vfsfd, tmp, s->vfsfd, name, text, len + 1, 0600, 0);
	if (e >= 0)
		store_sweep_tmp(s);
	return e;
}

int store_record_delete(dm_store *s, const char *pci)
{
	char name[DM_PCI_ADDR_MAX + 8];
	snprintf(name, sizeof(name), "%s.json", pci);
	if (unlinkat(s->vfsfd, name, 0) < 0)
		return -errno;
	int e = FAULT_EVERY("release-unlinked");
	if (e < 0)
		return e;
	return fsync(s->vfsfd) < 0 ? -errno : 0;
}

bool store_record_stale(const dm_record *r, bool cookie, bool *ret_unsure)
{
	struct stat st;
	if (!r || !r->netns)
		return false;
	if (stat(r->netns, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR;
	if (r->netns_ino && (uint64_t)st.st_ino != r->netns_ino)
		return true;
	/* The same inode number: the same namespace, or a later one the kernel gave the
	 * number again. Only the cookie tells them apart, and it may cost a namespace
	 * switch: asked only of a record that holds one. */
	if (!r->netns_ino || !r->netns_cookie || !S_ISREG(st.st_mode)) /* nsfs files are regular */
		return false;
	if (!cookie) {
		if (ret_unsure)
			*ret_unsure = true;
		return false;
	}
	int e = netns_path_is(r->netns, r->netns_ino, r->netns_cookie);
	return e == 0 || e == -ENOENT || e == -ENOTDIR; /* another, or gone since the stat() */
}

bool dm_record_is_stale(const dm_record *r)
{
	return store_record_stale(r, true, NULL);
}

int store_for_each(dm_store *s, int (*cb)(dm_store *, const char *pci, void *), void *arg,
                          void (*tmp_cb)(dm_store *, const char *name))
{
	_cleanup_closedir_ DIR *d = opendir_at(s->vfsfd, ".");
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		char pci[DM_PCI_ADDR_MAX];
		size_t len = strlen(de->d_name);
		if (!strncmp(de->d_name, ".tmp.", 5)) {
			if (tmp_cb)
				tmp_cb(s, de->d_name);
			continue;
		}
		if (len != 17 || strcmp(de->d_name + 12, ".json"))
			continue;
		memcpy(pci, de->d_name, 12);
		pci[12] = 0;
		if (!pci_addr_valid(pci))
			continue;
		int r = cb(s, pci, arg);
		if (r != 0)
			return r;
	}
	return 0;
}

int dm_store_get(dm_store *s, const char *pci, dm_record **ret)
{
	char addr[DM_PCI_ADDR_MAX];
	if (!s || !ret || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	return store_record_read(s, addr, ret);
}

int dm_store_set_data(dm_store *s, const char *pci, const char *owner_id, const char *json)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_record *r = NULL;
	_cleanup_free_ char *compact = NULL;
	int e;

	if (!s || dm_pci_addr_normalize(pci, addr) < 0 || !dm_owner_id_valid(owner_id))
		return -EINVAL;
	if (json) {
		cJSON *d = json_find_nul(json, strlen(json), NULL) ? NULL : cJSON_Parse(json);
		if (!d)
			return -EINVAL;
		compact = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		if (!compact)
			return -ENOMEM;
	}
	int took = store_vf_op_begin(s, addr);
	if (took < 0)
		return took;
	e = store_record_read(s, addr, &r);
	if (e >= 0 && strcmp(r->owner, owner_id))
		e = -EBUSY;
	if (e >= 0) {
		free(r->data);
		r->data = TAKE_PTR(compact);
		e = store_record_write(s, r);
	}
	dm_record_free(r);
	store_vf_op_end(s, addr, took);
	return e < 0 ? e : 0;
}

struct list_ctx {
	dm_record **recs;
	int *errs;
	size_t n, cap;
	int err;
};

static int list_cb(dm_store *s, const char *pci, void *arg)
{
	struct list_ctx *l = arg;
	dm_record *r = NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		dm_record **nr = realloc(l->recs, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		l->recs = nr;
		int *ne = realloc(l->errs, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		l->errs = ne;
		l->cap = cap;
	}
	int e = store_record_read(s, pci, &r);
	if (e == -ENOENT)
		return 0; /* released meanwhile */
	if (e == -ENOMEM)
		return e;
	if (e < 0) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		memcpy(r->pci, pci, DM_PCI_ADDR_MAX);
	}
	l->recs[l->n] = r;
	l->errs[l->n] = e < 0 ? e : 0;
	l->n++;
	return 0;
}

struct rec_err {
	dm_record *r;
	int err;
};

static int cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct rec_err *)a)->r->pci, ((const struct rec_err *)b)->r->pci);
}

int dm_store_list(dm_store *s, dm_record ***ret, int **ret_errors, size_t *ret_n)
{
	if (!s || !ret || !ret_n)
		return -EINVAL;
	struct list_ctx l = { 0 };
	int e = store_for_each(s, list_cb, &l, NULL);
	if (e < 0) {
		dm_record_list_free(l.recs, l.n);
		free(l.errs);
		return e;
	}
	/* in address order, each error still beside its record */
	if (l.n > 1) {
		struct rec_err *p = malloc(l.n * sizeof(*p));
		if (!p) {
			dm_record_list_free(l.recs, l.n);
			free(l.errs);
			return -ENOMEM;
		}
		for (size_t i = 0; i < l.n; i++)
			p[i] = (struct rec_err){ l.recs[i], l.errs[i] };
		qsort(p, l.n, sizeof(*p), cmp_rec);
		for (size_t i = 0; i < l.n; i++) {
			l.recs[i] = p[i].r;
			l.errs[i] = p[i].err;
		}
		free(p);
	}
	*ret = l.recs;
	*ret_n = l.n;
	if (ret_errors)
		*ret_errors = l.errs;
	else
		free(l.errs);
	return 0;
}

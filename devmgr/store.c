/* The allocation store: one JSON record per allocated VF, written atomically, a flock per
 * VF and one for the store. Layout under the state directory (0700, files 0600):
 *   format              "ucni-devmgr-store 1"
 *   store.lock          shared by every operation, exclusive for gc
 *   locks/<pci>.lock    the VF's lock (never removed: an unlinked lock file would let two
 *                       processes hold "the" lock at once)
 *   vfs/<pci>.json      the record; vfs/.tmp.<pci> while one is being written (under the
 *                       VF's lock, so a temp file whose VF lock is free is a leftover)
 *   config.json         the configuration `devmgr apply` installed (.config.json.tmp while
 *                       written, under store.lock held exclusively, as .format.tmp)
 * store.lock's modification time is when the last sweep of leftover temp files ran. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "ucni/jsoncheck.h"

#define STORE_FORMAT "ucni-devmgr-store 1\n"
#define RECORD_FORMAT "ucni-devmgr-allocation"
#define RECORD_VERSION 1
#define RECORD_MAX (1 << 20)
/* Seconds between two sweeps of vfs/ for leftover temp files (see sweep_tmp()). */
#define SWEEP_INTERVAL 60

typedef struct held_lock {
	char pci[DM_PCI_ADDR_MAX];
	int fd;
} held_lock;

struct dm_store {
	int dirfd, vfsfd, locksfd, storefd;
	held_lock *held;
	size_t n_held;
	int lock_timeout_ms; /* 0: DM_LOCK_TIMEOUT_MS_DEFAULT */
	char *fault;      /* FAULTS=1 builds: the named point where this process fails */
	bool fault_kill;  /* ... by SIGKILL instead of -EIO */
};

/* Fault injection, compiled in only with FAULTS=1 (build/fault/, -DUCNI_FAULTS), as in the
 * rest of ucni: UCNI_FAULT=<point> makes that point fail with -EIO, plus UCNI_FAULT_KILL=1
 * kills the process there instead. A normal build has no code for it. */
static int fault_point(const dm_store *s, const char *name)
{
#ifdef UCNI_FAULTS
	if (s->fault && !strcmp(s->fault, name)) {
		if (s->fault_kill)
			kill(getpid(), SIGKILL);
		return -EIO;
	}
#else
	(void)s;
	(void)name;
#endif
	return 0;
}

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* The rule for a directory of the store (the same as lib/base/state.c's): a real directory
 * (opened with O_NOFOLLOW, so never a symlink), owned by the effective uid, not writable
 * by group or others. One that fails is refused as it is: -ENOTDIR, or -EPERM. A
 * directory this process has just made (CREATED) is set to 0700 whatever the umask. */
static int dir_trusted(int fd, bool created)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	if (created && (st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		return -errno;
	return 0;
}

static int open_subdir(int dirfd, const char *name)
{
	bool created = mkdirat(dirfd, name, 0700) == 0;
	if (!created && errno != EEXIST)
		return -errno;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	int r = dir_trusted(fd, created);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static bool known_entry(const char *n)
{
	return !strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "format") || !strcmp(n, "store.lock") ||
	       !strcmp(n, "locks") || !strcmp(n, "vfs") || !strncmp(n, ".format.", 8);
}

/* A new temporary file: never an existing one, which might be a hard link to a file
 * elsewhere (O_TRUNC would empty it and the rename would adopt it) or a leftover of a
 * crashed writer (temp names are per target and written under the target's lock, so an
 * existing one is never another live writer's). -1 with errno set on failure. */
static int create_tmp(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && unlinkat(dirfd, name, 0) == 0)
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd;
}

/* A lock file (flock works on any descriptor): on a read-only state directory an existing
 * one still opens, so that reading the store keeps working; every write then fails with
 * EROFS. A symlink is never followed. -1 with errno set on failure. */
static int open_lock_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EROFS) {
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			errno = EROFS;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len);
static int store_lock(dm_store *s, int how);
static void store_unlock(dm_store *s);

/* The store's one way to write a file: TMP (a name of its own per target, in DIRFD) made
 * with O_EXCL, written, fsync'ed, renamed over NAME, then the directory fsync'ed. A crash
 * at any point leaves the old NAME or the new one, plus perhaps TMP, which the next writer
 * of NAME replaces and gc removes. The caller holds the lock that covers NAME. */
static int atomic_write(dm_store *s, int dirfd, const char *tmp, const char *name, const char *text, size_t len)
{
	int fd = create_tmp(dirfd, tmp);
	if (fd < 0)
		return -errno;
	size_t half = len / 2;
	int e = fault_point(s, "write-tmp-created");
	if (e >= 0)
		e = write_all(fd, text, half);
	if (e >= 0)
		e = fault_point(s, "write-tmp-half");
	if (e >= 0)
		e = write_all(fd, text + half, len - half);
	if (e >= 0)
		e = fault_point(s, "write-tmp-written");
	if (e >= 0 && fsync(fd) < 0)
		e = -errno;
	close(fd);
	if (e >= 0)
		e = fault_point(s, "write-synced");
	if (e >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		e = -errno;
	if (e < 0) {
		unlinkat(dirfd, tmp, 0);
		return e;
	}
	e = fault_point(s, "write-renamed");
	if (e < 0)
		return e; /* the file is in place; like a failed fsync, reported */
	return fsync(dirfd) < 0 ? -errno : 0;
}

/* 0 when DIRFD has our format marker, -ENOENT when it has none, -EPROTO when it has
 * another (or a link there). */
static int read_format(int dirfd)
{
	char buf[64];
	_cleanup_close_ int fd = openat(dirfd, "format", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPROTO : -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EPROTO;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return strcmp(buf, STORE_FORMAT) ? -EPROTO : 0;
}

/* Decides whether the directory is a store before anything in it changes: with our
 * format marker it is; without one it becomes one only when it holds nothing but what a
 * store holds (empty, or a store whose first open was interrupted), and only then are
 * store.lock and the marker made. Anything else: -EPROTO, the directory untouched. */
static int check_format(dm_store *s)
{
	int r = read_format(s->dirfd);
	if (r != -ENOENT)
		return r;
	{
		_cleanup_closedir_ DIR *d = opendir_at(s->dirfd, ".");
		if (!d)
			return -errno;
		struct dirent *de;
		while ((de = readdir(d)))
			if (!known_entry(de->d_name))
				return -EPROTO;
	}
	s->storefd = open_lock_file(s->dirfd, "store.lock");
	if (s->storefd < 0)
		return -errno;
	/* exclusive: two first opens write the marker one after the other */
	if ((r = store_lock(s, LOCK_EX)) < 0)
		return r;
	r = read_format(s->dirfd);
	if (r == -ENOENT)
		r = atomic_write(s, s->dirfd, ".format.tmp", "format", STORE_FORMAT, strlen(STORE_FORMAT));
	store_unlock(s);
	return r;
}

dm_store *dm_store_free(dm_store *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_held; i++)
		close(s->held[i].fd);
	free(s->held);
	free(s->fault);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->vfsfd >= 0)
		close(s->vfsfd);
	if (s->locksfd >= 0)
		close(s->locksfd);
	if (s->storefd >= 0)
		close(s->storefd);
	free(s);
	return NULL;
}

int dm_store_open(const char *state_dir, dm_store **ret)
{
	int r;

	if (!ret)
		return -EINVAL;
	const char *dir = state_dir ? state_dir : DM_DEFAULT_STATE_DIR;
	if (!*dir)
		return -EINVAL;
	r = mkdir_parents(dir);
	if (r < 0)
		return r;
	bool created = mkdir(dir, 0700) == 0;
	if (!created && errno != EEXIST)
		return -errno;

	dm_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vfsfd = s->locksfd = s->storefd = -1;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	/* nothing is changed before the directory passed the rule and check_format() */
	if ((r = dir_trusted(s->dirfd, created)) < 0)
		goto fail;
	r = check_format(s);
	if (r < 0)
		goto fail;
	if (s->storefd < 0)
		s->storefd = open_lock_file(s->dirfd, "store.lock");
	if (s->storefd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = open_subdir(s->dirfd, "locks")) < 0)
		goto fail;
	s->locksfd = r;
	if ((r = open_subdir(s->dirfd, "vfs")) < 0)
		goto fail;
	s->vfsfd = r;
#ifdef UCNI_FAULTS
	const char *f = getenv("UCNI_FAULT"), *k = getenv("UCNI_FAULT_KILL");
	if (f && *f && !(s->fault = strdup(f))) {
		r = -ENOMEM;
		goto fail;
	}
	s->fault_kill = k && !strcmp(k, "1");
#endif
	*ret = s;
	return 0;
fail:
	dm_store_free(s);
	return r == -ELOOP || r == -ENOTDIR ? -ENOTDIR : r;
}

/* ------------------------------------------------------------------ locks */

static held_lock *find_held(dm_store *s, const char *pci)
{
	for (size_t i = 0; i < s->n_held; i++)
		if (!strcmp(s->held[i].pci, pci))
			return &s->held[i];
	return NULL;
}

static int lock_timeout(const dm_store *s)
{
	return s->lock_timeout_ms > 0 ? s->lock_timeout_ms : DM_LOCK_TIMEOUT_MS_DEFAULT;
}

/* flock with a bounded wait: tries again every 10-100 ms until TIMEOUT_MS passed, then
 * -ETIMEDOUT (flock has no timeout of its own, and a library may not use signals). */
static int flock_bounded(int fd, int how, bool wait, int timeout_ms)
{
	struct timespec start, now;
	long delay_ms = 10;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, how | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (!wait)
			return -EWOULDBLOCK;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= timeout_ms)
			return -ETIMEDOUT;
		long d = delay_ms < timeout_ms - spent ? delay_ms : timeout_ms - spent;
		struct timespec ts = { d / 1000, (d % 1000) * 1000000L };
		(void)nanosleep(&ts, NULL);
		if (delay_ms < 100)
			delay_ms += 10;
	}
}

int dm_store_set_lock_timeout(dm_store *s, int timeout_ms)
{
	if (!s || timeout_ms < 1 || timeout_ms > 3600000)
		return -EINVAL;
	s->lock_timeout_ms = timeout_ms;
	return 0;
}

static int vf_lock_acquire(dm_store *s, const char *pci, bool wait)
{
	char name[DM_PCI_ADDR_MAX + 8];
	if (find_held(s, pci))
		return 0;
	held_lock *h = realloc(s->held, (s->n_held + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->held = h;
	snprintf(name, sizeof(name), "%s.lock", pci);
	int fd = open_lock_file(s->locksfd, name);
	if (fd < 0)
		return -errno;
	int e = flock_bounded(fd, LOCK_EX, wait, lock_timeout(s));
	if (e < 0) {
		close(fd);
		return e;
	}
	memcpy(s->held[s->n_held].pci, pci, DM_PCI_ADDR_MAX);
	s->held[s->n_held].fd = fd;
	s->n_held++;
	return 1; /* newly taken: the caller's to drop */
}

static void vf_lock_drop(dm_store *s, const char *pci)
{
	held_lock *h = find_held(s, pci);
	if (!h)
		return;
	close(h->fd);
	*h = s->held[--s->n_held];
}

int dm_store_lock_vf(dm_store *s, const char *pci, bool wait)
{
	char addr[DM_PCI_ADDR_MAX];
	if (!s || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	int r = vf_lock_acquire(s, addr, wait);
	return r < 0 ? r : 0;
}

int dm_store_unlock_vf(dm_store *s, const char *pci)
{
	char addr[DM_PCI_ADDR_MAX];
	if (!s || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	if (!find_held(s, addr))
		return -ENOENT;
	vf_lock_drop(s, addr);
	return 0;
}

static int store_lock(dm_store *s, int how)
{
	return flock_bounded(s->storefd, how, true, lock_timeout(s));
}

static void store_unlock(dm_store *s)
{
	(void)flock(s->storefd, LOCK_UN);
}

/* One operation on one VF: the store lock shared, the VF's lock taken (waiting) unless
 * this handle holds it already. Returns whether the lock was taken here, or -errno. */
static int vf_op_begin(dm_store *s, const char *pci)
{
	int e = store_lock(s, LOCK_SH);
	if (e < 0)
		return e;
	int took = vf_lock_acquire(s, pci, true);
	if (took < 0)
		store_unlock(s);
	return took;
}

static void vf_op_end(dm_store *s, const char *pci, int took)
{
	if (took)
		vf_lock_drop(s, pci);
	store_unlock(s);
}

/* ---------------------------------------------------------------- records */

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

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
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

static int read_record(dm_store *s, const char *pci, dm_record **ret)
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

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Removes the leftover temp files in vfs/: a name ".tmp.<pci>" (or ".tmp.<pci>.<pid>", as
 * older versions named them) whose VF lock is free has no writer. Run by a writer at most
 * once per SWEEP_INTERVAL (store.lock's mtime says when it last ran), so a write costs
 * one fstat however many records the store has; the common leftover (a writer killed
 * mid-write) is already replaced by the next write of the same record. */
static void sweep_tmp(dm_store *s)
{
	struct stat st;
	struct timespec now;
	if (fstat(s->storefd, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	long long age = (long long)now.tv_sec - (long long)st.st_mtim.tv_sec;
	if (age >= 0 && age < SWEEP_INTERVAL)
		return;
	if (futimens(s->storefd, NULL) < 0)
		return; /* a read-only store: nothing to sweep */
	_cleanup_closedir_ DIR *d = opendir_at(s->vfsfd, ".");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char pci[DM_PCI_ADDR_MAX];
		const char *n = de->d_name;
		if (strncmp(n, ".tmp.", 5) || strlen(n) < 5 + 12 || (n[17] && n[17] != '.'))
			continue;
		memcpy(pci, n + 5, 12);
		pci[12] = 0;
		if (!pci_addr_valid(pci))
			continue;
		int took = vf_lock_acquire(s, pci, false);
		if (took < 0)
			continue; /* a writer may be at work on it */
		(void)unlinkat(s->vfsfd, n, 0);
		if (took)
			vf_lock_drop(s, pci);
	}
}

/* The record of R->pci, written atomically; the caller holds the VF's lock and the store
 * lock (shared). */
static int write_record(dm_store *s, const dm_record *r)
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
	int e = atomic_write(s, s->vfsfd, tmp, name, text, len + 1);
	if (e >= 0)
		sweep_tmp(s);
	return e;
}

static int delete_record(dm_store *s, const char *pci)
{
	char name[DM_PCI_ADDR_MAX + 8];
	snprintf(name, sizeof(name), "%s.json", pci);
	if (unlinkat(s->vfsfd, name, 0) < 0)
		return -errno;
	int e = fault_point(s, "release-unlinked");
	if (e < 0)
		return e;
	return fsync(s->vfsfd) < 0 ? -errno : 0;
}

/* Whether R is stale by its netns path and inode only (COOKIE false), or by its cookie too.
 * *RET_UNSURE (may be NULL) tells that the cookie was left unasked and could decide. */
static bool record_stale(const dm_record *r, bool cookie, bool *ret_unsure)
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
	return record_stale(r, true, NULL);
}

static int owner_validate(const dm_owner *o)
{
	if (!o || !dm_owner_id_valid(o->id))
		return -EINVAL;
	if (o->ifname && !dm_ifname_valid(o->ifname))
		return -EINVAL;
	if (o->netns) {
		if (o->netns[0] != '/' || strlen(o->netns) >= PATH_MAX)
			return -EINVAL;
		for (const char *p = o->netns; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -EINVAL;
	}
	return 0;
}

static bool same_owner(const dm_record *r, const char *id, const char *ifname)
{
	if (!r->owner || strcmp(r->owner, id))
		return false;
	if (!ifname)
		return true;
	return r->ifname && !strcmp(r->ifname, ifname);
}

static bool same_attachment(const dm_record *r, const dm_owner *o)
{
	if (!r->owner || strcmp(r->owner, o->id))
		return false;
	if (!r->ifname != !o->ifname)
		return false;
	return !o->ifname || !strcmp(r->ifname, o->ifname);
}

static int record_new(const char *pci, const char *pool, const dm_owner *o, dm_record **ret)
{
	struct stat st;
	dm_record *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	str_copy(r->pci, sizeof(r->pci), pci);
	r->pool = dup_opt(pool);
	r->owner = strdup(o->id);
	r->ifname = dup_opt(o->ifname);
	r->netns = dup_opt(o->netns);
	r->time = (int64_t)time(NULL);
	r->pid = getpid();
	if (!r->owner || (pool && !r->pool) || (o->ifname && !r->ifname) || (o->netns && !r->netns)) {
		dm_record_free(r);
		return -ENOMEM;
	}
	if (o->netns) {
		if (stat(o->netns, &st) < 0) {
			int e = errno;
			dm_record_free(r);
			return -e;
		}
		r->netns_ino = (uint64_t)st.st_ino;
		/* the cookie when the kernel and our rights give one, of the namespace whose
		 * inode is recorded (none if the path changed in between: the inode decides) */
		uint64_t cookie = 0;
		if (S_ISREG(st.st_mode) && netns_path_cookie(o->netns, r->netns_ino, NULL, &cookie) == 0)
			r->netns_cookie = cookie;
	}
	*ret = r;
	return 0;
}

/* Claim PCI with its VF lock held and the store lock shared. */
static int claim_locked(dm_store *s, const char *pci, const char *pool, const dm_owner *o, dm_record **ret)
{
	dm_record *old = NULL, *r = NULL;
	int kind = DM_CLAIM_NEW;
	int e = read_record(s, pci, &old);
	if (e >= 0) {
		if (same_attachment(old, o)) {
			*ret = old;
			return DM_CLAIM_EXISTING;
		}
		bool stale = dm_record_is_stale(old), saved = dm_data_is_vf_state(old->data);
		dm_record_free(old);
		if (!stale)
			return -EBUSY;
		if (saved)
			return -ENOTEMPTY; /* its VF must be restored first (dm_store_restore_release) */
		kind = DM_CLAIM_RECLAIMED;
	} else if (e != -ENOENT)
		return e;
	e = record_new(pci, pool, o, &r);
	if (e < 0)
		return e;
	e = fault_point(s, "claim-before-write");
	if (e >= 0)
		e = write_record(s, r);
	if (e < 0) {
		dm_record_free(r);
		return e;
	}
	*ret = r;
	return kind;
}

int dm_store_claim(dm_store *s, const char *pci, const char *pool, const dm_owner *owner, dm_record **ret)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_record *r = NULL;
	int e;

	if (!s || dm_pci_addr_normalize(pci, addr) < 0 || owner_validate(owner) < 0)
		return -EINVAL;
	int took = vf_op_begin(s, addr);
	if (took < 0)
		return took;
	e = fault_point(s, "claim-locked");
	if (e >= 0)
		e = claim_locked(s, addr, pool, owner, &r);
	vf_op_end(s, addr, took);
	if (e < 0)
		return e;
	if (ret)
		*ret = r;
	else
		dm_record_free(r);
	return e;
}

/* Calls CB for every record name (pci) in vfs/; tmp files go to TMP_CB when given. */
static int for_each_entry(dm_store *s, int (*cb)(dm_store *, const char *pci, void *), void *arg,
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

struct find_owner {
	const dm_owner *o;
	const char *pool;
	dm_record *found;
};

static int find_owner_cb(dm_store *s, const char *pci, void *arg)
{
	struct find_owner *f = arg;
	dm_record *r = NULL;
	if (read_record(s, pci, &r) < 0)
		return 0;
	if (same_attachment(r, f->o) && r->pool && !strcmp(r->pool, f->pool)) {
		f->found = r;
		return 1;
	}
	dm_record_free(r);
	return 0;
}

/* Try one candidate without waiting for anybody: NEW/RECLAIMED, or <0 to move on. A VF
 * whose holder's netns still has the record's path and inode is passed over without
 * asking the namespace's cookie unless COOKIE: *RET_UNSURE then tells that it could be a
 * later namespace with the same inode number. */
static int try_candidate(dm_store *s, const char *pci, const char *pool, const dm_owner *o, bool cookie,
                         bool *ret_unsure, dm_record **ret)
{
	char name[DM_PCI_ADDR_MAX + 8];
	snprintf(name, sizeof(name), "%s.json", pci);
	if (faccessat(s->vfsfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		/* taken; only worth the lock when the holder's netns is gone (and a saved state
		 * must be restored first: not even asked) */
		dm_record *r = NULL;
		if (read_record(s, pci, &r) < 0)
			return -EBUSY;
		bool stale = !dm_data_is_vf_state(r->data) && record_stale(r, cookie, ret_unsure);
		dm_record_free(r);
		if (!stale)
			return -EBUSY;
	}
	int took = vf_lock_acquire(s, pci, false);
	if (took < 0)
		return took;
	int e = fault_point(s, "claim-locked");
	if (e >= 0)
		e = claim_locked(s, pci, pool, o, ret);
	if (took)
		vf_lock_drop(s, pci);
	if (e == DM_CLAIM_EXISTING) { /* cannot happen: same_attachment was checked above */
		dm_record_free(*ret);
		return -EBUSY;
	}
	return e;
}

/* What a pool claim looks for: a VF of pool IDX; with NUMA >= 0, on that node in pass
 * 0 and elsewhere in pass 1. */
typedef struct claim_filter {
	const dm_config *c;
	int idx, numa, pass;
} claim_filter;

static bool claim_wants(const dm_device *d, void *arg)
{
	const claim_filter *f = arg;
	if (f->numa >= 0 && (f->pass == 0) != (d->numa_node == f->numa))
		return false;
	return dm_config_match(f->c, d) == f->idx;
}

/* Where a pool claim takes its candidates from: an inventory in memory, or sysfs read VF
 * by VF through a cursor. Both give the healthy VFs in address order. */
typedef struct candidates {
	const dm_inventory *inv;
	size_t i;
	vf_cursor *cursor;
} candidates;

static int candidates_next(candidates *cs, claim_filter *f, const dm_device **ret)
{
	if (cs->cursor)
		return vf_cursor_next(cs->cursor, claim_wants, f, ret);
	while (cs->i < dm_inventory_count(cs->inv)) {
		const dm_device *d = dm_inventory_get(cs->inv, cs->i++);
		if (d->role == DM_ROLE_VF && !d->health && claim_wants(d, f)) {
			*ret = d;
			return 1;
		}
	}
	return 0;
}

static void candidates_rewind(candidates *cs)
{
	if (cs->cursor)
		vf_cursor_rewind(cs->cursor);
	cs->i = 0;
}

static int claim_from_candidates(dm_store *s, const dm_config *c, int idx, const char *pool, const dm_owner *owner,
                                 int numa, candidates *cs, dm_record **ret)
{
	int e;
	dm_record *r = NULL;

	e = store_lock(s, LOCK_SH);
	if (e < 0)
		return e;

	struct find_owner f = { owner, pool, NULL };
	e = for_each_entry(s, find_owner_cb, &f, NULL);
	if (f.found) {
		store_unlock(s);
		*ret = f.found;
		return DM_CLAIM_EXISTING;
	}

	/* Busy VFs are passed over on their netns path and inode alone; their cookies (a
	 * namespace switch each on kernels before 6.18) are asked only when that finds no VF
	 * and some holder could be a later namespace with its old inode number: then in a
	 * second round. A claim over a busy pool costs what it did without cookies. */
	e = -ENOSPC;
	bool unsure = false;
	claim_filter want = { c, idx, numa, 0 };
	for (int round = 0; round < 2 && e == -ENOSPC && (round == 0 || unsure); round++)
		for (want.pass = 0; want.pass < 2 && e < 0; want.pass++) {
			if (want.pass == 1 && numa < 0)
				break;
			candidates_rewind(cs);
			const dm_device *d;
			int n;
			while ((n = candidates_next(cs, &want, &d)) > 0) {
				int k = try_candidate(s, d->pci, pool, owner, round == 1, &unsure, &r);
				if (k >= 0) {
					e = k;
					break;
				}
				if (k == -ENOMEM || k == -EIO || k == -ENOSPC || k == -EROFS) {
					e = k == -ENOSPC ? -EIO : k; /* a full disk is not "no free VF" */
					break;
				}
				if (k == -ENOENT && owner->netns) {
					e = k; /* the owner's netns does not exist */
					break;
				}
			}
			if (n < 0)
				e = n;
			if (e != -ENOSPC)
				break;
		}
	store_unlock(s);
	if (e < 0)
		return e;
	*ret = r;
	return e;
}

int dm_store_claim_from_pool(dm_store *s, const dm_config *c, const dm_inventory *inv, const char *pool,
                             const dm_owner *owner, int numa, dm_record **ret)
{
	dm_record *r = NULL;
	if (!s || !c || !inv || !pool || owner_validate(owner) < 0)
		return -EINVAL;
	int idx = dm_config_pool_index(c, pool);
	if (idx < 0)
		return idx;
	candidates cs = { .inv = inv };
	int e = claim_from_candidates(s, c, idx, pool, owner, numa, &cs, &r);
	if (e < 0)
		return e;
	if (ret)
		*ret = r;
	else
		dm_record_free(r);
	return e;
}

int dm_store_claim_from_pool_sysfs(dm_store *s, const dm_config *c, const char *sysfs_root, const char *pool,
                                   const dm_owner *owner, int numa, dm_record **ret, dm_device *ret_dev)
{
	dm_record *r = NULL;
	vf_cursor *cur = NULL;
	if (!s || !c || !pool || owner_validate(owner) < 0)
		return -EINVAL;
	int idx = dm_config_pool_index(c, pool);
	if (idx < 0)
		return idx;
	int e = vf_cursor_open(sysfs_root, &cur);
	if (e < 0)
		return e;
	candidates cs = { .cursor = cur };
	e = claim_from_candidates(s, c, idx, pool, owner, numa, &cs, &r);
	if (e >= 0 && ret_dev) {
		dm_device d;
		/* the claim stands even when its VF cannot be described (gone since) */
		if (vf_cursor_lookup(cur, r->pci, &d) < 0)
			device_init(&d, "");
		*ret_dev = d;
	}
	vf_cursor_free(cur);
	if (e < 0)
		return e;
	if (ret)
		*ret = r;
	else
		dm_record_free(r);
	return e;
}

int dm_store_get(dm_store *s, const char *pci, dm_record **ret)
{
	char addr[DM_PCI_ADDR_MAX];
	if (!s || !ret || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	return read_record(s, addr, ret);
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
	int took = vf_op_begin(s, addr);
	if (took < 0)
		return took;
	e = read_record(s, addr, &r);
	if (e >= 0 && strcmp(r->owner, owner_id))
		e = -EBUSY;
	if (e >= 0) {
		free(r->data);
		r->data = TAKE_PTR(compact);
		e = write_record(s, r);
	}
	dm_record_free(r);
	vf_op_end(s, addr, took);
	return e < 0 ? e : 0;
}

static int release_locked(dm_store *s, const char *pci, const char *owner_id, const char *ifname, unsigned flags)
{
	dm_record *r = NULL;
	int e = read_record(s, pci, &r);
	if (e < 0) {
		if (e == -ENOENT || (owner_id && !(flags & DM_DROP_FORCE)))
			return e;
		/* an operator releasing a corrupt record by address */
	} else {
		bool mine = !owner_id || same_owner(r, owner_id, ifname) || (flags & DM_DROP_FORCE);
		bool saved = dm_data_is_vf_state(r->data);
		dm_record_free(r);
		if (!mine)
			return -EBUSY;
		/* the only copy of the VF's state before its owner changed it */
		if (saved && !(flags & (DM_DROP_RESTORED | DM_DROP_FORCE)))
			return -ENOTEMPTY;
	}
	e = fault_point(s, "release-locked");
	return e < 0 ? e : delete_record(s, pci);
}

int dm_store_drop(dm_store *s, const char *pci, const char *owner_id, const char *ifname, unsigned flags)
{
	char addr[DM_PCI_ADDR_MAX];
	int e;
	if (!s || dm_pci_addr_normalize(pci, addr) < 0 || (owner_id && !dm_owner_id_valid(owner_id)) ||
	    (ifname && !dm_ifname_valid(ifname)) || (flags & ~(unsigned)(DM_DROP_RESTORED | DM_DROP_FORCE)))
		return -EINVAL;
	int took = vf_op_begin(s, addr);
	if (took < 0)
		return took;
	e = release_locked(s, addr, owner_id, ifname, flags);
	vf_op_end(s, addr, took);
	return e;
}

int dm_store_release(dm_store *s, const char *pci, const char *owner_id, const char *ifname)
{
	return dm_store_drop(s, pci, owner_id, ifname, 0);
}

int dm_store_restore_release(dm_store *s, const char *sysfs_root, const char *pci, const char *owner_id,
                             unsigned flags, dm_restore_report *report)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_record *r = NULL;
	dm_restore_report rep;
	memset(&rep, 0, sizeof(rep));
	if (report)
		*report = rep; /* also on the early returns */
	if (!s || !sysfs_root || dm_pci_addr_normalize(pci, addr) < 0 || (owner_id && !dm_owner_id_valid(owner_id)) ||
	    (flags & ~(unsigned)(DM_DROP_FORCE | DM_RESTORE_WAIT_NETDEV)))
		return -EINVAL;
	int took = vf_op_begin(s, addr);
	if (took < 0)
		return took;
	int e = read_record(s, addr, &r);
	if (e >= 0 && owner_id && !same_owner(r, owner_id, NULL) && !(flags & DM_DROP_FORCE))
		e = -EBUSY;
	else if (e >= 0 && r->netns && !dm_record_is_stale(r)) {
		/* a live attachment: its VF is in use (a netdev in the pod, or an application
		 * on a userspace driver); only its own DEL, or a forced drop, ends it */
		snprintf(rep.what, sizeof(rep.what), "VF %s: its owner's netns %s still exists (a live attachment)", addr,
		         r->netns);
		e = flags & DM_DROP_FORCE ? release_locked(s, addr, owner_id, NULL, DM_DROP_FORCE) : -EAGAIN;
	} else if (e >= 0 || (e != -ENOENT && !owner_id)) {
		/* a corrupt record: nothing saved can be read, the VF goes to the baseline */
		dm_record base = { 0 };
		str_copy(base.pci, sizeof(base.pci), addr);
		/* a stale record's netdev may still be on its way back from the dying netns */
		unsigned rf = r && dm_record_is_stale(r) ? flags | DM_RESTORE_WAIT_NETDEV : flags;
		e = vf_restore_record(sysfs_root, r ? r : &base, rf, &rep);
		if (e >= 0 || (flags & DM_DROP_FORCE))
			e = release_locked(s, addr, owner_id, NULL, DM_DROP_RESTORED | (flags & DM_DROP_FORCE));
	}
	dm_record_free(r);
	vf_op_end(s, addr, took);
	if (report)
		*report = rep;
	return e;
}

struct release_owner {
	const char *id, *ifname;
	size_t n;
	int err;
};

static int release_owner_cb(dm_store *s, const char *pci, void *arg)
{
	struct release_owner *ro = arg;
	dm_record *r = NULL;
	if (read_record(s, pci, &r) < 0)
		return 0;
	bool mine = same_owner(r, ro->id, ro->ifname);
	dm_record_free(r);
	if (!mine)
		return 0;
	int took = vf_lock_acquire(s, pci, true);
	if (took < 0) {
		ro->err = took;
		return 0;
	}
	int e = release_locked(s, pci, ro->id, ro->ifname, 0);
	if (took)
		vf_lock_drop(s, pci);
	if (e >= 0)
		ro->n++;
	else if (e != -ENOENT && e != -EBUSY) /* raced with another release or a reclaim */
		ro->err = e;
	return 0;
}

int dm_store_release_owner(dm_store *s, const char *owner_id, const char *ifname, size_t *ret_n)
{
	if (!s || !dm_owner_id_valid(owner_id) || (ifname && !dm_ifname_valid(ifname)))
		return -EINVAL;
	int e = store_lock(s, LOCK_SH);
	if (e < 0)
		return e;
	struct release_owner ro = { owner_id, ifname, 0, 0 };
	e = for_each_entry(s, release_owner_cb, &ro, NULL);
	store_unlock(s);
	if (e < 0)
		return e;
	if (ro.err < 0)
		return ro.err;
	if (ret_n)
		*ret_n = ro.n;
	return 0;
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
	int e = read_record(s, pci, &r);
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

static int cmp_rec(const void *a, const void *b)
{
	return strcmp((*(dm_record *const *)a)->pci, (*(dm_record *const *)b)->pci);
}

int dm_store_list(dm_store *s, dm_record ***ret, int **ret_errors, size_t *ret_n)
{
	if (!s || !ret || !ret_n)
		return -EINVAL;
	struct list_ctx l = { 0 };
	int e = for_each_entry(s, list_cb, &l, NULL);
	if (e < 0) {
		dm_record_list_free(l.recs, l.n);
		free(l.errs);
		return e;
	}
	/* keep errors aligned with records while sorting */
	for (size_t i = 1; i < l.n; i++)
		for (size_t j = i; j > 0 && cmp_rec(&l.recs[j - 1], &l.recs[j]) > 0; j--) {
			dm_record *t = l.recs[j];
			l.recs[j] = l.recs[j - 1];
			l.recs[j - 1] = t;
			int te = l.errs[j];
			l.errs[j] = l.errs[j - 1];
			l.errs[j - 1] = te;
		}
	*ret = l.recs;
	*ret_n = l.n;
	if (ret_errors)
		*ret_errors = l.errs;
	else
		free(l.errs);
	return 0;
}

struct gc_ctx {
	const char *sysfs_root; /* NULL: records holding saved state stay */
	dm_gc_report rep;
	int err;
};

/* The store directory's temp files (.format.*, .config.json.*): written under store.lock
 * held exclusively, as gc holds it, so every one is a leftover. */
static void sweep_root_tmp(dm_store *s)
{
	_cleanup_closedir_ DIR *d = opendir_at(s->dirfd, ".");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".format.", 8) || !strncmp(de->d_name, ".config.json.", 13))
			(void)unlinkat(s->dirfd, de->d_name, 0);
}

static void gc_tmp_cb(dm_store *s, const char *name)
{
	/* under the exclusive store lock no writer is active: every temp file is a leftover */
	(void)unlinkat(s->vfsfd, name, 0);
}

static int gc_cb(dm_store *s, const char *pci, void *arg)
{
	struct gc_ctx *g = arg;
	dm_record *r = NULL;
	int e = read_record(s, pci, &r);
	if (e < 0) {
		if (e != -ENOENT)
			g->rep.corrupt++;
		return 0;
	}
	bool stale = dm_record_is_stale(r);
	dm_record_free(r);
	if (!stale)
		return 0;
	int took = vf_lock_acquire(s, pci, false);
	if (took < 0) {
		g->rep.busy++;
		return 0; /* somebody is working on it right now */
	}
	e = read_record(s, pci, &r);
	if (e >= 0 && dm_record_is_stale(r)) {
		bool keep = false;
		if (g->sysfs_root)
			/* restored from its saved state (the baseline without one), then dropped */
			keep = vf_restore_record(g->sysfs_root, r, DM_RESTORE_WAIT_NETDEV, NULL) < 0;
		else
			keep = dm_data_is_vf_state(r->data); /* cannot restore here: left for a restoring gc */
		if (keep)
			g->rep.kept++;
		else if ((e = delete_record(s, pci)) >= 0)
			g->rep.released++;
		else
			g->err = e;
	}
	dm_record_free(r);
	if (took)
		vf_lock_drop(s, pci);
	return 0;
}

static int gc_run(dm_store *s, const char *sysfs_root, dm_gc_report *ret)
{
	int e = store_lock(s, LOCK_EX);
	if (e < 0)
		return e;
	struct gc_ctx g = { .sysfs_root = sysfs_root };
	sweep_root_tmp(s);
	e = for_each_entry(s, gc_cb, &g, gc_tmp_cb);
	if (e >= 0)
		(void)fsync(s->vfsfd);
	store_unlock(s);
	if (e < 0)
		return e;
	if (g.err < 0)
		return g.err;
	*ret = g.rep;
	return 0;
}

int dm_store_gc(dm_store *s, size_t *ret_released, size_t *ret_corrupt)
{
	dm_gc_report rep;
	if (!s)
		return -EINVAL;
	int e = gc_run(s, NULL, &rep);
	if (e < 0)
		return e;
	if (ret_released)
		*ret_released = rep.released;
	if (ret_corrupt)
		*ret_corrupt = rep.corrupt;
	return 0;
}

int dm_store_gc_restore(dm_store *s, const char *sysfs_root, dm_gc_report *ret)
{
	dm_gc_report rep;
	if (!s || !sysfs_root || !ret)
		return -EINVAL;
	int e = gc_run(s, sysfs_root, &rep);
	if (e < 0)
		return e;
	*ret = rep;
	return 0;
}

int dm_store_install_config(dm_store *s, const char *text)
{
	if (!s || !text)
		return -EINVAL;
	int e = store_lock(s, LOCK_EX);
	if (e < 0)
		return e;
	e = atomic_write(s, s->dirfd, ".config.json.tmp", "config.json", text, strlen(text));
	store_unlock(s);
	return e;
}

/* host-local's store on disk, file for file the reference plugin's, with writes that are complete or absent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/fault.h"
#include "ucni/state.h"
#include "common.h"
#include "disk.h"

#define LOCK_NAME "lock"
#define LAST_PREFIX "last_reserved_ip."
/* The one temp file of a write; every write happens under the store's lock, so one found
 * there is a dead writer's (state_write_at replaces it; opening the store removes it). */
#define TMP_NAME ".ucni-write.tmp"
/* A reservation is an ID (at most 255 bytes), "\r\n" and an interface name. */
#define OWNER_MAX 4096

bool hl_store_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* A directory that holds entries but no `lock` file is not a store: nothing is written
 * there (a config's dataDir may name any directory). A store's lock is made before any
 * other file of it, so the lock is looked for after the entries: another process making
 * the store meanwhile is seen as such. */
static int is_store(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;
	bool other = false;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!other && (de = readdir(d)))
		other = strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, TMP_NAME) &&
			strcmp(de->d_name, LOCK_NAME);
	closedir(d);
	if (!other)
		return 0;
	if (fstatat(dirfd, LOCK_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? -ENOTEMPTY : -errno;
	return S_ISREG(st.st_mode) ? 0 : -ENOTEMPTY;
}

/* The network's directory under datafd: made (HL_DIR_MODE exactly) when missing and create. */
static int store_dir_open(int datafd, const char *name, bool create, int *ret_fd)
{
	int fd = openat(datafd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(datafd, name, HL_DIR_MODE) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(datafd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		/* Made by us a moment ago: its mode exactly, umask notwithstanding. */
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 07777) != HL_DIR_MODE)
			fchmod(fd, HL_DIR_MODE);
	}
	if (fd < 0) {
		struct stat st;
		/* O_DIRECTORY answers ENOTDIR for a link as for a file: a link is refused. */
		if (errno == ELOOP || (errno == ENOTDIR && fstatat(datafd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					S_ISLNK(st.st_mode)))
			return -EPERM;
		return -errno;
	}
	*ret_fd = fd;
	return 0;
}

/* The lock file of the store: an existing one needs no look at the entries (a store's
 * lock is made first); without one, the directory must hold nothing else. */
static int lock_open(int dirfd, int *ret_fd)
{
	int fd = openat(dirfd, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), r;
	if (fd < 0 && errno == ENOENT) {
		if ((r = is_store(dirfd)) < 0)
			return r;
		fd = openat(dirfd, LOCK_NAME, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, HL_FILE_MODE);
	}
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	*ret_fd = fd;
	return 0;
}

int hl_store_open(int datafd, const char *datadir, const char *name, bool create, int timeout_ms,
		  struct hl_store *ret)
{
	struct hl_store s = {.dirfd = -1, .lockfd = -1};
	struct stat a, b;
	int r;

	if (!hl_store_name_ok(name))
		return -EINVAL;
	if ((size_t)snprintf(s.dir, sizeof(s.dir), "%s/%s", datadir, name) >= sizeof(s.dir))
		return -ENAMETOOLONG;
	if ((r = store_dir_open(datafd, name, create, &s.dirfd)) < 0)
		return r;
	/* Judged through the descriptor: ours alone, or left untouched. */
	if ((r = state_dir_check_fd(s.dirfd)) < 0)
		goto fail;
	for (long long left = timeout_ms;;) {
		if ((r = lock_open(s.dirfd, &s.lockfd)) < 0)
			goto fail;
		if (fstat(s.lockfd, &a) < 0 || !S_ISREG(a.st_mode)) {
			r = -EPERM;
			goto fail;
		}
		long long t0 = now_ms();
		if ((r = state_flock(s.lockfd, LOCK_EX, (int)left)) < 0)
			goto fail;
		/* Held on the file that is there now (no store removes it, but a hand might). */
		if (fstatat(s.dirfd, LOCK_NAME, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			break;
		close(s.lockfd);
		s.lockfd = -1;
		left -= now_ms() - t0;
		if (left <= 0) {
			r = -ETIMEDOUT;
			goto fail;
		}
	}
	unlinkat(s.dirfd, TMP_NAME, 0);
	*ret = s;
	return 0;
fail:
	hl_store_close(&s);
	return r;
}

void hl_store_close(struct hl_store *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->lockfd = s->dirfd = -1;
}

/* Without fsync, as the reference: a reservation protects the addresses of running
 * containers, and none outlives the machine; a killed process leaves the old or the new
 * file all the same. */
static int write_file(struct hl_store *s, const char *name, const char *data, size_t len)
{
	return state_write_at(s->dirfd, TMP_NAME, s->dirfd, name, data, len, HL_FILE_MODE, STATE_NO_SYNC);
}

/*
 * last_reserved_ip.<N> is rewritten in place, as the reference rewrites it (it truncates
 * and writes), but without truncating to zero first: on ext4 a file emptied by a truncate
 * or replaced by a rename is flushed to disk at close (auto_da_alloc), a write of its own
 * for a hint. The file is only where the next search starts: a process killed between the
 * write and the truncate leaves the new address followed by the old one's last characters,
 * a search that starts elsewhere in the range (as the reference's empty file starts it at
 * the range's start), never an address handed out twice.
 */
static int write_hint(struct hl_store *s, const char *name, const char *data, size_t len)
{
	struct stat st;
	ssize_t w;
	int fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, HL_FILE_MODE);
	int r = 0;
	if (fd < 0)
		return -errno;
	/* Only a file of the store's own: never through a hard link to one elsewhere. */
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		r = -EPERM;
	else if ((w = pwrite(fd, data, len, 0)) != (ssize_t)len)
		r = w < 0 ? -errno : -EIO;
	else if ((r = FAULT("hostlocal-hint-written")) == 0 && st.st_size > (off_t)len && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	close(fd);
	return r;
}

int hl_store_reserve(struct hl_store *s, const char *id, const char *ifname, const struct ip_addr *a, size_t set)
{
	char name[HL_ADDR_STRLEN], last[sizeof(LAST_PREFIX) + 24], data[OWNER_MAX];
	struct stat st;
	int r, n;

	hl_addr_str(a, name);
	/* Every writer holds the lock: an address absent now stays free until the rename. */
	if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	n = snprintf(data, sizeof(data), "%s\r\n%s", id, ifname);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -ENAMETOOLONG;
	if ((r = write_file(s, name, data, (size_t)n)) < 0)
		return r;
	if ((r = FAULT("hostlocal-reserved")) < 0)
		return r;
	snprintf(last, sizeof(last), LAST_PREFIX "%zu", set);
	if ((r = write_hint(s, last, name, strlen(name))) < 0)
		return r;
	return 1;
}

/*
 * A whole small regular file under the store, whitespace-trimmed, into buf (no larger
 * than size - 1 bytes: -EFBIG). `regular`: the directory listing said it is one, so no
 * fstat is needed (opened without following links and without blocking, a FIFO or a
 * directory put there meanwhile reads as nothing or fails). One read: a regular file's
 * read returns less than asked only at its end.
 */
static int read_small(struct hl_store *s, const char *name, bool regular, char *buf, size_t size)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	ssize_t n;
	/* Without an access time update where we may (our own files): on ext4 the first read
	 * after a write would otherwise be a journalled inode update, once per reservation
	 * and once per ADD for last_reserved_ip. */
	int fd = openat(s->dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(s->dirfd, name, flags);
	if (fd < 0)
		return -errno;
	if (!regular && fstat(fd, &st) < 0)
		n = -errno;
	else if (!regular && !S_ISREG(st.st_mode))
		n = -EINVAL;
	else if ((n = read(fd, buf, size)) < 0)
		n = -errno;
	else if ((size_t)n >= size)
		n = -EFBIG;
	close(fd);
	if (n < 0)
		return (int)n;
	const char *p = buf, *e = buf + n;
	while (p < e && strchr(" \t\r\n\v\f", *p))
		p++;
	while (e > p && strchr(" \t\r\n\v\f", e[-1]))
		e--;
	memmove(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return 0;
}

int hl_store_last(struct hl_store *s, size_t set, struct ip_addr *ret)
{
	char name[sizeof(LAST_PREFIX) + 24], buf[64];
	int r;
	snprintf(name, sizeof(name), LAST_PREFIX "%zu", set);
	if ((r = read_small(s, name, false, buf, sizeof(buf))) < 0)
		return r == -EFBIG ? -EINVAL : r;
	return ipam_ip_parse(buf, ret);
}

enum hl_owner hl_owner_match(const char *owner, const char *id, const char *ifname)
{
	size_t n = strlen(id);
	if (strncmp(owner, id, n) != 0)
		return HL_OTHER;
	if (owner[n] == '\0')
		return HL_ID_ONLY;
	return owner[n] == '\r' && owner[n + 1] == '\n' && strcmp(owner + n + 2, ifname) == 0 ? HL_EXACT : HL_OTHER;
}

/* The entries are listed with getdents64 on the store's own descriptor, from its start:
 * no second descriptor and no DIR buffer (a store is listed at least once per operation). */
int hl_store_each(struct hl_store *s, hl_store_fn fn, void *data)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n = 0;
	int r = 0;

	if (lseek(s->dirfd, 0, SEEK_SET) < 0)
		return -errno;
	while (r == 0 && (n = getdents64(s->dirfd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n && r == 0;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			char owner[OWNER_MAX];
			struct ip_addr a;
			off += de->d_reclen;
			if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
				continue;
			if (ipam_ip_parse(de->d_name, &a) < 0)
				continue;
			if (read_small(s, de->d_name, de->d_type == DT_REG, owner, sizeof(owner)) < 0)
				continue;
			r = fn(s, de->d_name, &a, owner, data);
		}
	if (r == 0 && n < 0)
		r = -errno;
	return r < 0 ? r : 0;
}

struct owned {
	const char *id, *ifname;
	struct ip_addr *addrs;
	size_t n;
	int exact, id_only;
	bool remove_exact, remove_id_only;
};

static int collect(struct hl_store *s, const char *name, const struct ip_addr *a, const char *owner, void *data)
{
	struct owned *o = data;
	enum hl_owner m = hl_owner_match(owner, o->id, o->ifname);
	if (m == HL_OTHER)
		return 0;
	if (m == HL_EXACT)
		o->exact++;
	else
		o->id_only++;
	/* Removal is best effort, as the reference's: the rest still goes. */
	if ((m == HL_EXACT && o->remove_exact) || (m == HL_ID_ONLY && o->remove_id_only)) {
		hl_store_drop(s, name);
		return 0;
	}
	struct ip_addr *n = realloc(o->addrs, (o->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	o->addrs = n;
	o->addrs[o->n++] = *a;
	return 0;
}

int hl_store_owned(struct hl_store *s, const char *id, const char *ifname, struct ip_addr **ret, size_t *ret_n)
{
	struct owned o = {.id = id, .ifname = ifname};
	int r = hl_store_each(s, collect, &o);
	if (r < 0) {
		free(o.addrs);
		return r;
	}
	*ret = o.addrs;
	*ret_n = o.n;
	return 0;
}

bool hl_store_has(struct hl_store *s, const char *id, const char *ifname)
{
	struct owned o = {.id = id, .ifname = ifname};
	int r = hl_store_each(s, collect, &o);
	free(o.addrs);
	return r == 0 && o.n > 0;
}

int hl_store_release(struct hl_store *s, const char *id, const char *ifname)
{
	struct owned o = {.id = id, .ifname = ifname, .remove_exact = true};
	int r = hl_store_each(s, collect, &o);
	/* Only when none is this attachment's: those of the container ID alone (older files). */
	if (r == 0 && o.exact == 0 && o.id_only > 0) {
		struct owned old = {.id = id, .ifname = ifname, .remove_id_only = true};
		r = hl_store_each(s, collect, &old);
		free(old.addrs);
		o.exact = old.id_only;
	}
	free(o.addrs);
	return r < 0 ? r : o.exact;
}

int hl_store_drop(struct hl_store *s, const char *name)
{
	return unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

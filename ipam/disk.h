/* host-local's store, the reference plugin's format on disk: <dataDir>/<network>/ holds one
 * file per reserved address, named by the address, holding "<container ID>\r\n<ifname>";
 * last_reserved_ip.<range set index> holding the address last reserved from that set; and
 * `lock`, an empty file every operation holds an exclusive flock on. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "ucni/ipaddr.h"
#include "range.h"

#define HL_DATA_DIR_DEFAULT "/var/lib/cni/networks"
/* Reservation and last_reserved_ip files (the reference's since 1.4; 1.1 wrote 0644). */
#define HL_FILE_MODE 0600
/* A network directory made here (the reference's MkdirAll mode). */
#define HL_DIR_MODE 0755

struct hl_store {
	int dirfd;
	int lockfd;
	char dir[PATH_MAX];
};

/* Whether `name` can be a directory name in dataDir: 1 to 255 bytes, not "." or "..", no
 * '/' and no control character. */
bool hl_store_name_ok(const char *name);

/*
 * Open the network's store <datadir>/<name> (datafd: dataDir, opened by the caller; datadir:
 * its path, for messages) and take its lock, waiting at most timeout_ms (-ETIMEDOUT). The
 * directory is opened without following a link (-EPERM), made HL_DIR_MODE when missing,
 * and follows the state-directory rule (an existing one must be a real directory owned by
 * us and writable by us alone: -EPERM, -ENOTDIR, left untouched); it must be a store:
 * holding a regular file `lock`, or else nothing (-ENOTEMPTY otherwise, nothing written).
 * With !create, a missing directory is -ENOENT.
 */
int hl_store_open(int datafd, const char *datadir, const char *name, bool create, int timeout_ms,
		  struct hl_store *ret);
void hl_store_close(struct hl_store *s);

/* Reserve address a for (id, ifname) as range set `set`'s: 1 when reserved (and
 * last_reserved_ip.<set> updated), 0 when the address is taken, -errno. The file is
 * complete or absent at any point a process may die. */
int hl_store_reserve(struct hl_store *s, const char *id, const char *ifname, const struct ip_addr *a, size_t set);
/* The address last reserved from range set `set`: 0, -ENOENT, -EINVAL (unreadable). */
int hl_store_last(struct hl_store *s, size_t set, struct ip_addr *ret);

/* What one reservation says of its owner. */
enum hl_owner { HL_OTHER, HL_EXACT, HL_ID_ONLY };

/* Call fn for every reservation (a regular file named by an address) with its address and
 * content (whitespace-trimmed, NUL-terminated); fn returns < 0 to stop. */
typedef int (*hl_store_fn)(struct hl_store *s, const char *name, const struct ip_addr *a, const char *owner,
			   void *data);
int hl_store_each(struct hl_store *s, hl_store_fn fn, void *data);
/* How `owner` (a reservation's content) relates to (id, ifname): the exact pair, or the
 * container ID alone (files of older reference versions). */
enum hl_owner hl_owner_match(const char *owner, const char *id, const char *ifname);

/* The addresses reserved for (id, ifname), or for id alone (older files): *ret (free it). */
int hl_store_owned(struct hl_store *s, const char *id, const char *ifname, struct ip_addr **ret, size_t *ret_n);
/* Whether a reservation of (id, ifname) exists (or, failing that, of id alone). */
bool hl_store_has(struct hl_store *s, const char *id, const char *ifname);
/* Release the reservations of (id, ifname), or, when there are none, those of id alone:
 * how many, or -errno. */
int hl_store_release(struct hl_store *s, const char *id, const char *ifname);
/* Remove one reservation by its file name. */
int hl_store_drop(struct hl_store *s, const char *name);

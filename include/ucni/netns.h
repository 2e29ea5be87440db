/* Network namespaces: open (and prove it is one), enter, and always come back. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Open `path` and check that it is a network namespace (nsfs, CLONE_NEWNET).
 * -ENOENT when it does not exist, -EINVAL when it is something else. */
int netns_open(const char *path, int *ret_fd);
/* The same, `path` relative to the directory dirfd (or AT_FDCWD). */
int netns_openat(int dirfd, const char *path, int *ret_fd);
/* Enter the namespace `fd`; *ret_orig receives an fd of the current one. */
int netns_enter(int fd, int *ret_orig);
/* Return to the namespace saved by netns_enter and close it. Aborts the
 * process if that fails: continuing in the wrong namespace would touch the
 * wrong devices. */
void netns_leave(int *orig);
/* The fd of the calling thread's own network namespace. */
int netns_open_self(int *ret_fd);
/* Do two namespace fds refer to the same namespace? */
int netns_same(int a, int b);

/*
 * Who a network namespace is, beyond a path that may name another one later.
 * The kernel's namespace cookie (SO_NETNS_COOKIE, kernels since 5.14) is never
 * given to another namespace while the system runs; without it, the device and
 * inode of the namespace file, which the kernel may give a later namespace.
 */
struct netns_id {
	uint64_t cookie; /* 0: the kernel has none */
	uint64_t dev, ino;
};
/* The identity of the namespace `nsfd` (entered for a moment if it is not ours). */
int netns_id(int nsfd, struct netns_id *ret);
/* The same, from a socket `sock` opened in that namespace: no namespace switch. */
int netns_id_of_socket(int sock, int nsfd, struct netns_id *ret);
/* The same namespace? Cookies decide when both have one, else device and inode. */
bool netns_id_equal(const struct netns_id *a, const struct netns_id *b);
/* Text form, for state files: "cookie:N" or "ino:DEV:INO"; buf of NETNS_ID_LEN. */
#define NETNS_ID_LEN 64
void netns_id_format(const struct netns_id *id, char *buf);
/* Parse the text form; -EINVAL when it is not one. */
int netns_id_parse(const char *s, struct netns_id *ret);

/* Opens the namespace file PATH and gives its inode (*ret_ino, may be NULL) and
 * the cookie of the network namespace it names (*ret_cookie: 0 on a kernel
 * without SO_NETNS_COOKIE); entering it for a moment when it is not the calling
 * thread's (needs CAP_SYS_ADMIN: else -EPERM). -ESTALE when ino is not 0 and the
 * file's inode differs (*ret_ino is then set), -ENOTTY when PATH is not a
 * network namespace, -errno of open() when it cannot be opened. */
int netns_path_cookie(const char *path, uint64_t ino, uint64_t *ret_ino, uint64_t *ret_cookie);
/* Is the namespace file PATH (inode ino when not 0) the network namespace whose
 * cookie is `cookie`? 1 yes, 0 no (another cookie, or another inode), -errno
 * when it cannot tell (-ENOPROTOOPT: a kernel without cookies; else as
 * netns_path_cookie()). Where the kernel gives a namespace's id from its file
 * (NS_GET_ID) a namespace that is the same costs no namespace switch. */
int netns_path_is(const char *path, uint64_t ino, uint64_t cookie);

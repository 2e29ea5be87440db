/* Network namespaces: open (and prove it is one), enter, and always come back. */
#pragma once

/* Open `path` and check that it is a network namespace (nsfs, CLONE_NEWNET).
 * -ENOENT when it does not exist, -EINVAL when it is something else. */
int netns_open(const char *path, int *ret_fd);
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

/* flock-based locks with bounded waits: the one lock primitive of the plugins and devmgr. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/state.h"

/* Between two tries: 5 ms at first, then a tenth of the time waited so far, at most
 * 100 ms, so a short wait ends soon after the holder lets go and a long one costs
 * few wake-ups. */
#define POLL_MIN_MS 5
#define POLL_MAX_MS 100

/*
 * flock has no timeout of its own, and a library may not use signals (an alarm
 * would interrupt its caller too): a wait is a series of non-blocking tries.
 */
int state_flock(int fd, int how, int timeout_ms)
{
	long long start = now_ms();
	for (;;) {
		if (flock(fd, how | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (how & LOCK_NB)
			return -EWOULDBLOCK;
		long long waited = now_ms() - start;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		long long d = waited / 10;
		d = d < POLL_MIN_MS ? POLL_MIN_MS : d > POLL_MAX_MS ? POLL_MAX_MS : d;
		sleep_ms(d < timeout_ms - waited ? d : timeout_ms - waited);
	}
}

int state_lock(const char *path, int timeout_ms, int *ret_fd)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		long long left = deadline - now_ms();
		int r = state_flock(fd, LOCK_EX, left > 0 ? (int)left : 0);
		if (r < 0) {
			close(fd);
			return r;
		}
		/* The holder before us may have removed the file (state_unlock_remove):
		 * then our lock is on an orphan, and the path needs a new one. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*ret_fd = fd;
			return 0;
		}
		close(fd);
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
	}
}

void state_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* closing the last descriptor releases the flock */
	*fd = -1;
}

void state_unlock_remove(const char *path, int *fd)
{
	if (*fd >= 0)
		unlink(path); /* still locked: whoever waits sees the new inode and retries */
	state_unlock(fd);
}

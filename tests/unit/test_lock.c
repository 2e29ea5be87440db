/* The one lock primitive (lib/base/lock.c): flocks shared and exclusive, a try, a bounded
 * wait, and the lock files of state_lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fixture.h"
#include "unit.h"

#include "ucni/clock.h"
#include "ucni/state.h"

static int open_file(const char *name)
{
	char p[512];
	path_of(p, sizeof(p), name);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

/* Shared locks go together, an exclusive one waits for them all; each open file
 * description is a holder of its own, even in one process. */
static void flock_shared_exclusive(void **state)
{
	(void)state;
	int a = open_file("l"), b = open_file("l"), c = open_file("l");
	assert_int_equal(state_flock(a, LOCK_SH, 0), 0);
	assert_int_equal(state_flock(b, LOCK_SH | LOCK_NB, 0), 0);
	assert_int_equal(state_flock(c, LOCK_EX | LOCK_NB, 0), -EWOULDBLOCK);
	assert_int_equal(state_flock(c, LOCK_EX, 0), -ETIMEDOUT); /* a wait of 0 ms: one try */
	long long t0 = now_ms();
	assert_int_equal(state_flock(c, LOCK_EX, 60), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 60);
	assert_true(now_ms() - t0 < 5000); /* bounded */
	assert_int_equal(state_flock(a, LOCK_UN, 0), 0);
	assert_int_equal(state_flock(c, LOCK_EX | LOCK_NB, 0), -EWOULDBLOCK); /* b still shares it */
	assert_int_equal(state_flock(b, LOCK_UN, 0), 0);
	assert_int_equal(state_flock(c, LOCK_EX | LOCK_NB, 0), 0);
	assert_int_equal(state_flock(a, LOCK_SH | LOCK_NB, 0), -EWOULDBLOCK);
	assert_int_equal(state_flock(a, LOCK_SH, 30), -ETIMEDOUT);
	close(a);
	close(b);
	close(c);
	assert_int_equal(state_flock(-1, LOCK_EX, 100), -EBADF); /* not a wait: the error */
}

/* A waiter gets the lock soon after its holder lets go, not at its deadline. */
static void flock_waits_for_holder(void **state)
{
	int ready[2], status;
	char c;
	(void)state;
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open_file("w");
		if (state_flock(fd, LOCK_EX, 0) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		sleep_ms(200);
		_exit(0); /* the exit releases it */
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	int fd = open_file("w");
	long long t0 = now_ms();
	assert_int_equal(state_flock(fd, LOCK_EX, 20000), 0);
	assert_true(now_ms() - t0 < 15000); /* the holder's exit, not the deadline, ended the wait */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(fd);
}

static void lock_excludes(void **state)
{
	char p[512];
	int a = -1, b = -1;
	(void)state;
	path_of(p, sizeof(p), "x.lock");
	assert_int_equal(state_lock(p, 1000, &a), 0);
	/* A second open file description does not share the lock, even in one process. */
	long long t0 = now_ms();
	assert_int_equal(state_lock(p, 100, &b), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 100);
	assert_true(now_ms() - t0 < 5000); /* bounded */
	assert_int_equal(state_lock(p, 0, &b), -ETIMEDOUT);
	state_unlock(&a);
	assert_int_equal(a, -1);
	assert_int_equal(state_lock(p, 100, &b), 0);
	state_unlock(&b);
}

/* Does PID have the file with DEV and INO open? */
static bool holds_file(pid_t pid, dev_t dev, ino_t ino)
{
	char fds[64], fd[400];
	struct dirent *e;
	struct stat st;
	bool found = false;
	snprintf(fds, sizeof(fds), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(fds);
	while (d && !found && (e = readdir(d)))
		if (e->d_name[0] != '.' && snprintf(fd, sizeof(fd), "%s/%s", fds, e->d_name) > 0 && stat(fd, &st) == 0)
			found = st.st_dev == dev && st.st_ino == ino;
	if (d)
		closedir(d);
	return found;
}

/* A waiter whose lock file was removed under it locks the new file. The file is
 * removed only once the waiter holds it open (it waits for the lock on it). */
static void lock_removed_while_waiting(void **state)
{
	char p[512], c;
	int a = -1, status, ready[2];
	struct stat old;
	(void)state;
	path_of(p, sizeof(p), "y.lock");
	assert_int_equal(state_lock(p, 1000, &a), 0);
	assert_int_equal(fstat(a, &old), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int b = -1;
		struct stat s1, s2;
		close(a); /* the inherited descriptor would keep the parent's lock alive */
		close(ready[0]);
		if (write(ready[1], "c", 1) != 1) /* from now on, what holds the file is state_lock */
			_exit(4);
		if (state_lock(p, 30000, &b) < 0)
			_exit(1);
		/* it holds the file the path names now */
		if (fstat(b, &s1) < 0 || stat(p, &s2) < 0 || s1.st_ino != s2.st_ino)
			_exit(2);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	for (int i = 0; i < 20000 && !holds_file(pid, old.st_dev, old.st_ino); i++)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL); /* at least 20 s in all */
	assert_true(holds_file(pid, old.st_dev, old.st_ino));
	state_unlock_remove(p, &a);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(flock_shared_exclusive, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(flock_waits_for_holder, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(lock_excludes, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(lock_removed_while_waiting, test_dir_make, test_dir_remove),
	};
	return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}

/* The one lock primitive (lib/base/lock.c): flocks shared and exclusive, a try, a bounded
 * wait, and the lock files of state_lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

#include "ucni/clock.h"
#include "ucni/state.h"

static char dir[256];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ucni-lock-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

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

/* A waiter whose lock file was removed under it locks the new file. */
static void lock_removed_while_waiting(void **state)
{
	char p[512];
	int a = -1, status;
	(void)state;
	path_of(p, sizeof(p), "y.lock");
	assert_int_equal(state_lock(p, 1000, &a), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int b = -1;
		struct stat s1, s2;
		close(a); /* the inherited descriptor would keep the parent's lock alive */
		if (state_lock(p, 5000, &b) < 0)
			_exit(1);
		/* it holds the file the path names now */
		if (fstat(b, &s1) < 0 || stat(p, &s2) < 0 || s1.st_ino != s2.st_ino)
			_exit(2);
		_exit(0);
	}
	usleep(100 * 1000);
	state_unlock_remove(p, &a);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(flock_shared_exclusive, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(flock_waits_for_holder, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(lock_excludes, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(lock_removed_while_waiting, make_dir, remove_dir),
	};
	return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}

/* Unit tests (no root, no ipvlan needed) of the crash-safe state files
 * (lib/state.c) and the ipvlan registry's DEL path (ipvlan/port.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ucni/state.h"
#include "../../ipvlan/port.h"

static char dir[256];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ucni-ipvlan-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n = 0;
	return state_read(path, 1 << 20, &s, &n) == 0 ? s : NULL;
}

static void test_mkdir(void **state)
{
	char p[512], f[512];
	struct stat st;
	(void)state;
	path_of(p, sizeof(p), "a/b/c");
	assert_int_equal(state_mkdir(p, 0700), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(state_mkdir(p, 0700), 0); /* idempotent */
	/* A directory others may write into is not trusted. */
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(state_mkdir(p, 0700), -EPERM);
	path_of(f, sizeof(f), "file");
	close(open(f, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(state_mkdir(f, 0700), -ENOTDIR);
}

static void test_replace_and_read(void **state)
{
	char p[512], *s;
	struct stat st;
	(void)state;
	path_of(p, sizeof(p), "data.json");
	assert_int_equal(state_read(p, 100, &s, &(size_t){0}), -ENOENT);
	assert_int_equal(state_replace(p, "first", 5, 0600), 0);
	assert_int_equal(state_replace(p, "second", 6, 0600), 0);
	s = slurp(p);
	assert_non_null(s);
	assert_string_equal(s, "second");
	free(s);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* no temporary file is left next to it */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void test_lock_excludes(void **state)
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
	state_unlock(&a);
	assert_int_equal(a, -1);
	assert_int_equal(state_lock(p, 100, &b), 0);
	state_unlock(&b);
}

/* A waiter whose lock file was removed under it locks the new file. */
static void test_lock_removed_while_waiting(void **state)
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

static void write_reg(const char *name, const char *json)
{
	char p[512];
	path_of(p, sizeof(p), name);
	assert_int_equal(state_replace(p, json, strlen(json), 0600), 0);
}

/* DEL: the entry of (containerID, ifname) leaves every master's file; the
 * files of a master with no entry left go, lock included. */
static void test_forget(void **state)
{
	char j1[512], l1[512], j2[512], *s;
	(void)state;
	setenv("UCNI_IPVLAN_DIR", dir, 1);
	write_reg("ns1-if2.json", "{\"master\":\"m0\",\"entries\":["
				  "{\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/x\",\"tmpname\":\"t\"},"
				  "{\"containerID\":\"b\",\"ifname\":\"eth0\",\"netns\":\"/y\",\"tmpname\":\"u\"},"
				  "{\"containerID\":\"a\",\"ifname\":\"net1\",\"netns\":\"/x\",\"tmpname\":\"v\"}]}");
	write_reg("ns1-if3.json", "{\"master\":\"m1\",\"entries\":["
				  "{\"containerID\":\"b\",\"ifname\":\"eth0\",\"netns\":\"/y\",\"tmpname\":\"w\"}]}");
	path_of(j1, sizeof(j1), "ns1-if2.json");
	path_of(l1, sizeof(l1), "ns1-if2.lock");
	path_of(j2, sizeof(j2), "ns1-if3.json");
	close(open(l1, O_CREAT | O_WRONLY, 0600));

	port_forget("a", "eth0");
	s = slurp(j1);
	assert_non_null(s);
	assert_null(strstr(s, "\"tmpname\":\"t\""));
	assert_non_null(strstr(s, "\"tmpname\":\"u\""));
	assert_non_null(strstr(s, "\"tmpname\":\"v\"")); /* same container, other ifname */
	free(s);

	port_forget("b", "eth0"); /* in both files; m1 has nothing left */
	assert_int_equal(access(j2, F_OK), -1);
	s = slurp(j1);
	assert_non_null(s);
	assert_null(strstr(s, "\"tmpname\":\"u\""));
	free(s);

	port_forget("nobody", "eth0"); /* unknown: no change, no error */
	port_forget("a", "net1");
	assert_int_equal(access(j1, F_OK), -1);
	assert_int_equal(access(l1, F_OK), -1);
	unsetenv("UCNI_IPVLAN_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkdir, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_replace_and_read, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_lock_excludes, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_lock_removed_while_waiting, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_forget, make_dir, remove_dir),
	};
	return cmocka_run_group_tests_name("ipvlan state", tests, NULL, NULL);
}

/* Unit tests (no root, no ipvlan needed) of the ipvlan registry's DEL and GC
 * paths (ipvlan/port.c) and of the namespace identity its entries carry
 * (lib/kernel/netns.c). lib/base/state.c has its own, tests/unit/test_state.c. */
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

#include "ucni/netns.h"
#include "ucni/state.h"
#include "../../ipvlan/port.h"
#include "../unit/fixture.h"

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
	setenv("UCNI_IPVLAN_DIR", test_dir, 1);
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

static int count_files(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "exit $(ls -A '%s' | grep -cv '^\\.tmp$')", test_dir);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* GC: entries whose namespace is gone leave, a file left empty goes with its
 * lock, a lock without a registry goes, killed writers' temp files go; a
 * damaged registry and a busy lock stay. */
static void test_gc(void **state)
{
	char p[512], j2[512], l3[512], lbusy[512], bad[512], legacy[512];
	(void)state;
	setenv("UCNI_IPVLAN_DIR", test_dir, 1);
	write_reg("ns1-if2.json", "{\"master\":\"m0\",\"entries\":["
				  "{\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/nonexistent/a\",\"netnsID\":\"cookie:5\"},"
				  "{\"containerID\":\"b\",\"ifname\":\"eth0\",\"netns\":\"/nonexistent/b\"}]}");
	path_of(j2, sizeof(j2), "ns1-if2.json");
	path_of(l3, sizeof(l3), "ns1-if3.lock");          /* no ns1-if3.json */
	close(open(l3, O_CREAT | O_WRONLY, 0600));
	path_of(lbusy, sizeof(lbusy), "ns1-if4.lock");    /* held by someone */
	int held = -1;
	assert_int_equal(state_lock(lbusy, 100, &held), 0);
	path_of(bad, sizeof(bad), "ns1-if5.json");
	write_reg("ns1-if5.json", "not json");
	path_of(legacy, sizeof(legacy), "ns1-if2.json.tmp.999999999");
	close(open(legacy, O_CREAT | O_WRONLY, 0600));
	path_of(p, sizeof(p), ".tmp/ns1-if2.json.77.0"); /* a killed writer's */
	close(open(p, O_CREAT | O_WRONLY, 0600));

	int n = port_gc();
	assert_true(n >= 5); /* 2 entries, ns1-if3.lock, 2 temp files */
	assert_int_equal(access(j2, F_OK), -1);
	assert_int_equal(access(l3, F_OK), -1);
	assert_int_equal(access(legacy, F_OK), -1);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(access(lbusy, F_OK), 0);
	assert_int_equal(access(bad, F_OK), 0);
	state_unlock(&held);
	assert_int_equal(count_files(), 3); /* the busy lock, the damaged file and its lock */
	assert_true(port_gc() >= 1);      /* the lock, free now */
	assert_int_equal(count_files(), 2);
	unsetenv("UCNI_IPVLAN_DIR");
}

/* A registry directory that is not private is neither used nor changed. */
static void test_refused_dir(void **state)
{
	char j[512], l[512];
	struct stat st;
	(void)state;
	setenv("UCNI_IPVLAN_DIR", test_dir, 1);
	write_reg("ns1-if2.json", "{\"master\":\"m0\",\"entries\":["
				  "{\"containerID\":\"a\",\"ifname\":\"eth0\",\"netns\":\"/nonexistent/a\"}]}");
	path_of(j, sizeof(j), "ns1-if2.json");
	path_of(l, sizeof(l), "ns1-if9.lock");
	close(open(l, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(chmod(test_dir, 0777), 0);
	assert_int_equal(port_gc(), -EPERM);
	port_forget("a", "eth0");
	assert_int_equal(access(j, F_OK), 0);
	assert_int_equal(access(l, F_OK), 0);
	assert_int_equal(stat(test_dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(chmod(test_dir, 0700), 0);
	unsetenv("UCNI_IPVLAN_DIR");
}

/* The identity a registry entry records: a recycled inode is not the same
 * namespace when the kernel gives cookies. */
static void test_netns_id(void **state)
{
	struct netns_id a, b, c;
	char s[NETNS_ID_LEN];
	int fd = -1;
	(void)state;
	assert_int_equal(netns_open_self(&fd), 0);
	assert_int_equal(netns_id(fd, &a), 0);
	assert_int_equal(netns_id(fd, &b), 0);
	close(fd);
	assert_true(netns_id_equal(&a, &b));
	assert_true(a.ino != 0);
	netns_id_format(&a, s);
	assert_int_equal(netns_id_parse(s, &c), 0);
	assert_true(netns_id_equal(&a, &c));
	if (a.cookie) /* kernels since 5.14 */
		assert_non_null(strstr(s, "cookie:"));

	struct netns_id old = {.cookie = 7, .dev = 4, .ino = 4026532000};
	struct netns_id reused = {.cookie = 9, .dev = 4, .ino = 4026532000};
	struct netns_id same = {.cookie = 7, .dev = 4, .ino = 4026532001};
	assert_false(netns_id_equal(&old, &reused)); /* recycled inode, other namespace */
	assert_true(netns_id_equal(&old, &same));
	struct netns_id i1 = {.dev = 4, .ino = 10}, i2 = {.dev = 4, .ino = 10}, i3 = {.dev = 4, .ino = 11};
	assert_true(netns_id_equal(&i1, &i2)); /* no cookies: device and inode decide */
	assert_false(netns_id_equal(&i1, &i3));
	netns_id_format(&i1, s);
	assert_string_equal(s, "ino:4:10");
	assert_int_equal(netns_id_parse(s, &c), 0);
	assert_true(netns_id_equal(&c, &i1));
	assert_int_equal(netns_id_parse("cookie:18446744073709551615", &c), 0);
	assert_true(c.cookie == UINT64_MAX);
	const char *bad[] = {"", "cookie:", "cookie:0", "cookie:-1", "cookie:12x", "ino:4", "ino:4:", "ino:-4:5",
			     "ino:4:5:6", "inode:4:5", "12"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (netns_id_parse(bad[i], &c) != -EINVAL)
			fail_msg("\"%s\" parsed as a namespace identity", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forget, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(test_gc, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(test_refused_dir, test_dir_make, test_dir_remove),
		cmocka_unit_test(test_netns_id),
	};
	return cmocka_run_group_tests_name("ipvlan state", tests, NULL, NULL);
}

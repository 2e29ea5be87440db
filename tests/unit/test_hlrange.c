/* host-local's range sets (ipam/range.c): parsing, completion, the reference's error
 * messages, Go's address rendering, and the allocation order; its store (ipam/disk.c); its
 * reading of a resolv.conf (ipam/hostlocal-dns.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

#include "ucni/state.h"
#include "../../ipam/common.h"
#include "../../ipam/disk.h"
#include "../../ipam/hostlocal-dns.h"
#include "../../ipam/range.h"

static int parse(const char *json, struct hl_ranges *ret)
{
	cJSON *ipam = cJSON_Parse(json);
	assert_non_null(ipam);
	cni_error_reset();
	int r = hl_ranges_parse(ipam, NULL, ret);
	cJSON_Delete(ipam);
	return r;
}

static const char *str(const struct ip_addr *a)
{
	static char buf[4][HL_ADDR_STRLEN];
	static int i;
	return hl_addr_str(a, buf[i++ % 4]);
}

static void addr_rendering(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{"10.1.2.3", "10.1.2.3"},
		{"::ffff:10.1.2.3", "10.1.2.3"},
		{"fd00::1", "fd00::1"},
		{"fd00:0:1::", "fd00:0:1::"},
		{"fd00:0:1:0:0:1:0:0", "fd00:0:1::1:0:0"},
		{"1:0:0:1:0:0:0:1", "1:0:0:1::1"},
		{"::", "::"},
		{"::1", "::1"},
		{"1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"},
		{"FD00::ABCD", "fd00::abcd"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr a;
		assert_int_equal(ipam_ip_parse(cases[i][0], &a), 0);
		assert_string_equal(str(&a), cases[i][1]);
	}
	struct ip_addr a;
	assert_int_equal(ipam_ip_parse("10.1.2.3/24", &a), -EINVAL);
	assert_int_equal(ipam_ip_parse("010.1.2.3", &a), -EINVAL);
}

static void completion(void **state)
{
	struct hl_ranges rs;
	(void)state;
	assert_int_equal(parse("{\"subnet\": \"10.9.0.0/29\"}", &rs), 0);
	assert_int_equal(rs.n, 1);
	const struct hl_range *r = &rs.sets[0].r[0];
	assert_string_equal(str(&r->start), "10.9.0.1");
	assert_string_equal(str(&r->end), "10.9.0.6");
	assert_string_equal(str(&r->gw), "10.9.0.1");
	assert_int_equal(hl_rangeset_size(&rs.sets[0]), 5);
	hl_ranges_free(&rs);

	assert_int_equal(parse("{\"ranges\": [[{\"subnet\": \"fd00::/120\", \"rangeStart\": \"fd00::10\", \"gateway\": "
			       "\"fd00::fe\"}], [{\"subnet\": \"10.0.0.0/24\", \"rangeEnd\": \"10.0.0.9\"}]]}",
			       &rs),
			 0);
	assert_int_equal(rs.n, 2);
	r = &rs.sets[0].r[0];
	assert_string_equal(str(&r->start), "fd00::10");
	assert_string_equal(str(&r->end), "fd00::ff"); /* IPv6 has no broadcast address */
	assert_string_equal(str(&r->gw), "fd00::fe");
	assert_int_equal(hl_rangeset_size(&rs.sets[0]), 0xff - 0x10 + 1 - 1);
	assert_string_equal(str(&rs.sets[1].r[0].end), "10.0.0.9");
	char buf[256];
	assert_string_equal(hl_rangeset_str(&rs.sets[1], buf, sizeof(buf)), "10.0.0.1-10.0.0.9");
	hl_ranges_free(&rs);

	/* The legacy range comes before "ranges"; runtimeConfig.ipRanges before both. */
	cJSON *ipam = cJSON_Parse("{\"subnet\": \"10.1.0.0/24\", \"ranges\": [[{\"subnet\": \"10.2.0.0/24\"}]]}");
	cJSON *rt = cJSON_Parse("{\"ipRanges\": [[{\"subnet\": \"10.3.0.0/24\"}]]}");
	assert_int_equal(hl_ranges_parse(ipam, rt, &rs), 0);
	assert_int_equal(rs.n, 3);
	assert_string_equal(str(&rs.sets[0].r[0].start), "10.3.0.1");
	assert_string_equal(str(&rs.sets[1].r[0].start), "10.1.0.1");
	assert_string_equal(str(&rs.sets[2].r[0].start), "10.2.0.1");
	hl_ranges_free(&rs);
	cJSON_Delete(ipam);
	cJSON_Delete(rt);
}

static void reference_errors(void **state)
{
	struct hl_ranges rs;
	(void)state;
	const char *cases[][2] = {
		{"{}", "no IP ranges specified"},
		{"{\"ranges\": []}", "no IP ranges specified"},
		{"{\"ranges\": [[]]}", "invalid range set 0: empty range set"},
		{"{\"subnet\": \"10.9.0.0/31\"}",
		 "invalid range set 0: Network 10.9.0.0/31 too small to allocate from"},
		{"{\"subnet\": \"fd00::/127\"}", "invalid range set 0: Network fd00::/127 too small to allocate from"},
		{"{\"subnet\": \"10.9.0.1/24\"}",
		 "invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.9.0.0"},
		{"{\"ranges\": [[{\"subnet\": \"10.8.0.0/24\", \"rangeStart\": \"10.7.0.1\"}]]}",
		 "invalid range set 0: RangeStart 10.7.0.1 not in network 10.8.0.0/24"},
		{"{\"ranges\": [[{\"subnet\": \"10.8.0.0/24\", \"rangeEnd\": \"10.8.1.1\"}]]}",
		 "invalid range set 0: RangeEnd 10.8.1.1 not in network 10.8.0.0/24"},
		{"{\"ranges\": [[{\"subnet\": \"10.8.0.0/24\", \"rangeStart\": \"10.8.0.9\", \"rangeEnd\": \"10.8.0.3\"}]]}",
		 "invalid range set 0: RangeStart 10.8.0.9 not in network 10.8.0.0/24"},
		{"{\"ranges\": [[{\"subnet\": \"10.8.0.0/24\"}], [{\"subnet\": \"10.8.0.0/25\"}]]}",
		 "range set 0 overlaps with 1"},
		{"{\"ranges\": [[{\"subnet\": \"10.8.0.0/24\"}, {\"subnet\": \"fd::/64\"}]]}",
		 "invalid range set 0: mixed address families"},
		{"{\"ranges\": [[{\"subnet\": \"10.8.0.0/24\"}, {\"subnet\": \"10.8.0.0/25\"}]]}",
		 "invalid range set 0: subnets 10.8.0.1-10.8.0.254 and 10.8.0.1-10.8.0.126 overlap"},
		{"{\"ranges\": [[{\"gateway\": \"10.0.0.1\"}]]}", "invalid range set 0: IP <nil> not v4 nor v6"},
		{"{\"subnet\": \"nope\"}", "invalid CIDR address: nope"},
		{"{\"subnet\": \"10.0.0.0/24\", \"rangeStart\": \"10.0.0\"}", "invalid IP address: 10.0.0"},
		{"{\"ranges\": [{\"subnet\": \"10.8.0.0/24\"}]}", "must be a list of ranges"},
		{"{\"ranges\": {}}", "must be a list of range sets"},
		{"{\"subnet\": 7}", "\"ipam.subnet\" must be a string"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(parse(cases[i][0], &rs) < 0);
		assert_error(CNI_ERR_INVALID_CONFIG, cases[i][1]);
	}
}

/* The order the allocator tries addresses in, as a string. */
static const char *order(const struct hl_rangeset *set, const char *last, int max)
{
	static char out[1024];
	struct ip_addr l, a;
	struct hl_iter it;
	size_t off = 0;
	if (last)
		assert_int_equal(ipam_ip_parse(last, &l), 0);
	hl_iter_init(&it, set, last ? &l : NULL);
	out[0] = '\0';
	for (int i = 0; i < max && hl_iter_next(&it, &a, NULL); i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", off ? " " : "", str(&a));
	return out;
}

static void allocation_order(void **state)
{
	struct hl_ranges rs;
	(void)state;
	assert_int_equal(parse("{\"subnet\": \"10.0.0.0/29\"}", &rs), 0);
	/* The gateway (.1) is skipped, no network or broadcast address. */
	assert_string_equal(order(&rs.sets[0], NULL, 20), "10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6");
	/* Round robin: after the last reserved, the last reserved itself last of all. */
	assert_string_equal(order(&rs.sets[0], "10.0.0.4", 20), "10.0.0.5 10.0.0.6 10.0.0.2 10.0.0.3 10.0.0.4");
	assert_string_equal(order(&rs.sets[0], "10.0.0.6", 20), "10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6");
	/* A last address outside the set is ignored. */
	assert_string_equal(order(&rs.sets[0], "10.0.1.4", 20), "10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6");
	hl_ranges_free(&rs);

	/* Several ranges: on to the next one, and round. A gateway in the middle. */
	assert_int_equal(
		parse("{\"ranges\": [[{\"subnet\": \"10.0.0.0/30\"}, {\"subnet\": \"10.0.1.0/29\", \"gateway\": "
		      "\"10.0.1.3\", \"rangeEnd\": \"10.0.1.4\"}]]}",
		      &rs),
		0);
	assert_string_equal(order(&rs.sets[0], NULL, 20), "10.0.0.2 10.0.1.1 10.0.1.2 10.0.1.4");
	assert_string_equal(order(&rs.sets[0], "10.0.1.2", 20), "10.0.1.4 10.0.0.2 10.0.1.1 10.0.1.2");
	assert_string_equal(order(&rs.sets[0], "10.0.0.2", 20), "10.0.1.1 10.0.1.2 10.0.1.4 10.0.0.2");
	hl_ranges_free(&rs);

	/* A range whose only address is its gateway gives nothing. */
	assert_int_equal(parse("{\"subnet\": \"10.0.0.0/30\", \"rangeEnd\": \"10.0.0.1\"}", &rs), 0);
	assert_string_equal(order(&rs.sets[0], NULL, 20), "");
	assert_int_equal(hl_rangeset_size(&rs.sets[0]), 0);
	hl_ranges_free(&rs);

	/* IPv6, with a carry across bytes. */
	assert_int_equal(parse("{\"subnet\": \"fd00::/120\", \"rangeStart\": \"fd00::fd\"}", &rs), 0);
	assert_string_equal(order(&rs.sets[0], NULL, 20), "fd00::fd fd00::fe fd00::ff");
	hl_ranges_free(&rs);
	assert_int_equal(parse("{\"subnet\": \"fd00::/56\", \"rangeStart\": \"fd00::ffff\"}", &rs), 0);
	assert_string_equal(order(&rs.sets[0], NULL, 2), "fd00::ffff fd00::1:0");
	assert_int_equal(hl_rangeset_size(&rs.sets[0]), UINT64_MAX);
	hl_ranges_free(&rs);
}

/* ---- the store ---- */

static char dir[64];

static int store_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ucni-hlstore.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int store_teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *slurp(const char *name)
{
	char path[256], *data = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/net/%s", dir, name);
	return state_read(path, 4096, &data, &len) == 0 ? data : NULL;
}

/* The store `name` under the test's dataDir (hl_store_open takes the dataDir open). */
static int store_open_at(const char *d, const char *name, bool create, int timeout_ms, struct hl_store *ret)
{
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;
	if (fd < 0)
		return -errno;
	r = hl_store_open(fd, d, name, create, timeout_ms, ret);
	close(fd);
	return r;
}

static void store_format(void **state)
{
	struct hl_store s;
	struct ip_addr a, b, last;
	(void)state;
	assert_false(hl_store_name_ok(""));
	assert_false(hl_store_name_ok(".."));
	assert_false(hl_store_name_ok("a/b"));
	assert_false(hl_store_name_ok("a\nb"));
	assert_true(hl_store_name_ok("net-1.x"));
	assert_int_equal(store_open_at(dir, "net", false, 1000, &s), -ENOENT);
	assert_int_equal(store_open_at(dir, "../x", true, 1000, &s), -EINVAL);

	assert_int_equal(store_open_at(dir, "net", true, 1000, &s), 0);
	assert_int_equal(ipam_ip_parse("10.0.0.2", &a), 0);
	assert_int_equal(ipam_ip_parse("fd00::2", &b), 0);
	assert_int_equal(hl_store_last(&s, 0, &last), -ENOENT);
	assert_int_equal(hl_store_reserve(&s, "c1", "eth0", &a, 0), 1);
	assert_int_equal(hl_store_reserve(&s, "c2", "eth0", &a, 0), 0);
	assert_int_equal(hl_store_reserve(&s, "c1", "eth0", &b, 1), 1);
	assert_int_equal(hl_store_last(&s, 0, &last), 0);
	assert_true(hl_addr_eq(&last, &a));

	/* Byte for byte the reference's. */
	char *t = slurp("10.0.0.2");
	assert_non_null(t);
	assert_string_equal(t, "c1\r\neth0");
	free(t);
	assert_non_null(t = slurp("last_reserved_ip.1"));
	assert_string_equal(t, "fd00::2");
	free(t);
	assert_non_null(t = slurp("lock"));
	assert_string_equal(t, "");
	free(t);

	/* last_reserved_ip is rewritten in place: a shorter address leaves nothing of the longer. */
	struct ip_addr longer, shorter;
	assert_int_equal(ipam_ip_parse("fd00::1234:5678", &longer), 0);
	assert_int_equal(ipam_ip_parse("fd00::9", &shorter), 0);
	assert_int_equal(hl_store_reserve(&s, "c3", "eth0", &longer, 1), 1);
	assert_int_equal(hl_store_reserve(&s, "c4", "eth0", &shorter, 1), 1);
	assert_non_null(t = slurp("last_reserved_ip.1"));
	assert_string_equal(t, "fd00::9");
	free(t);
	assert_int_equal(hl_store_release(&s, "c3", "eth0"), 1);
	assert_int_equal(hl_store_release(&s, "c4", "eth0"), 1);

	assert_true(hl_store_has(&s, "c1", "eth0"));
	assert_false(hl_store_has(&s, "c1", "eth1"));
	assert_false(hl_store_has(&s, "c2", "eth0"));
	struct ip_addr *owned;
	size_t n;
	assert_int_equal(hl_store_owned(&s, "c1", "eth0", &owned, &n), 0);
	assert_int_equal(n, 2);
	free(owned);

	/* An older reference's file names the container ID alone: released only when no
	 * file names the exact pair. */
	char path[256];
	snprintf(path, sizeof(path), "%s/net/10.0.0.9", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("c1\n", f);
	fclose(f);
	assert_int_equal(hl_store_release(&s, "c1", "eth0"), 2);
	assert_int_equal(access(path, F_OK), 0);
	assert_true(hl_store_has(&s, "c1", "eth7"));
	assert_int_equal(hl_store_release(&s, "c1", "eth0"), 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(hl_store_release(&s, "c1", "eth0"), 0);
	hl_store_close(&s);
}

static void store_refusals(void **state)
{
	struct hl_store s;
	char path[256];
	(void)state;
	/* A directory that is not a store, not ours alone, or a symbolic link is left alone. */
	snprintf(path, sizeof(path), "%s/other", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/other/README", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(store_open_at(dir, "other", true, 1000, &s), -ENOTEMPTY);
	snprintf(path, sizeof(path), "%s/other/lock", dir);
	assert_int_equal(access(path, F_OK), -1);

	snprintf(path, sizeof(path), "%s/open", dir);
	assert_int_equal(mkdir(path, 0777), 0);
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(store_open_at(dir, "open", true, 1000, &s), -EPERM);

	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("/etc", path), 0);
	assert_int_equal(store_open_at(dir, "link", true, 1000, &s), -EPERM);

	/* A held lock: a bounded wait. */
	struct hl_store held;
	assert_int_equal(store_open_at(dir, "busy", true, 1000, &held), 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(store_open_at(dir, "busy", true, 100, &s) == -ETIMEDOUT ? 0 : 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	hl_store_close(&held);
}

static void resolv_reading(void **state)
{
	(void)state;
	cJSON *dns = cJSON_CreateObject();
	assert_int_equal(hl_resolv_parse("# comment\n; comment\nnameserver 10.0.0.53\n\tnameserver  fd00::53 x\r\n"
					 "domain a.example\nsearch s1 s2\noptions ndots:2\ndomain b.example\n"
					 "nameserver\nsortlist 1.2.3.4\n  # indented comment\nsearch s3",
					 dns),
			 0);
	char *out = cJSON_PrintUnformatted(dns);
	assert_string_equal(out, "{\"nameservers\":[\"10.0.0.53\",\"fd00::53\"],\"search\":[\"s1\",\"s2\",\"s3\"],"
				 "\"options\":[\"ndots:2\"],\"domain\":\"b.example\"}");
	free(out);
	cJSON_Delete(dns);
	dns = cJSON_CreateObject();
	assert_int_equal(hl_resolv_parse("", dns), 0);
	assert_null(dns->child);
	cJSON_Delete(dns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(addr_rendering, reset_error),
		cmocka_unit_test_setup(completion, reset_error),
		cmocka_unit_test_setup(reference_errors, reset_error),
		cmocka_unit_test_setup(allocation_order, reset_error),
		cmocka_unit_test(resolv_reading),
		cmocka_unit_test_setup_teardown(store_format, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(store_refusals, store_setup, store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* What the IPAM plugins share (ipam/common.c): addresses, requests, routes, dns, results. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "unit.h"
#include "../../ipam/common.h"

static struct cni_ctx ctx;

/* A context as cni_main makes it: CNI_ARGS `args` (NULL: none) and the config `json`. */
static int load(const char *args, const char *json, const char *const *known)
{
	cni_conf_free(&ctx.conf);
	cni_env_free(&ctx.env);
	memset(&ctx, 0, sizeof(ctx));
	cni_error_reset();
	int r = cni_args_parse(&ctx.env, args, known);
	if (r < 0)
		return r;
	char *raw = strdup(json);
	return cni_conf_parse(&ctx.conf, raw, strlen(raw));
}

static int teardown(void **s)
{
	cni_conf_free(&ctx.conf);
	cni_env_free(&ctx.env);
	memset(&ctx, 0, sizeof(ctx));
	return 0;
}

static const char *const static_known[] = {"IP", "GATEWAY", NULL};
static const char *const hl_known[] = {"IP", NULL};

static const char *fmt_prefix(const struct ip_prefix *p)
{
	static char buf[IP_PREFIX_STRLEN];
	return ip_prefix_format(p, buf, sizeof(buf));
}

static const char *fmt_ip(const struct ip_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];
	return ip_addr_format(a, buf, sizeof(buf));
}

static void addr_parse(void **s)
{
	struct ip_prefix p;
	bool has_len;
	assert_int_equal(ipam_addr_parse("10.1.2.3/24", true, &p, &has_len), 0);
	assert_true(has_len);
	assert_string_equal(fmt_prefix(&p), "10.1.2.3/24"); /* host bits kept */
	assert_int_equal(ipam_addr_parse("fd00::5/64", true, &p, &has_len), 0);
	assert_string_equal(fmt_prefix(&p), "fd00::5/64");
	/* a bare address: only without need_len, and then of full length */
	assert_int_equal(ipam_addr_parse("10.1.2.3", true, &p, &has_len), -EINVAL);
	assert_int_equal(ipam_addr_parse("10.1.2.3", false, &p, &has_len), 0);
	assert_false(has_len);
	assert_string_equal(fmt_prefix(&p), "10.1.2.3/32");
	assert_int_equal(ipam_addr_parse("fd00::1", false, &p, NULL), 0);
	assert_int_equal(p.len, 128);
	/* IPv4-mapped IPv6 becomes IPv4, its length less 96 (0 when shorter) */
	assert_int_equal(ipam_addr_parse("::ffff:10.0.0.5/120", true, &p, &has_len), 0);
	assert_int_equal(p.family, AF_INET);
	assert_string_equal(fmt_prefix(&p), "10.0.0.5/24");
	assert_int_equal(ipam_addr_parse("::ffff:10.0.0.5/64", true, &p, &has_len), 0);
	assert_string_equal(fmt_prefix(&p), "10.0.0.5/0");
	assert_int_equal(ipam_addr_parse("::ffff:a00:6", false, &p, &has_len), 0);
	assert_string_equal(fmt_prefix(&p), "10.0.0.6/32");
	const char *bad[] = {"", "/24", "10.1.2.3/", "10.1.2.3/33", "fd00::/129", "10.1.2.3/-1", "10.1.2.3/+8",
			     "010.1.2.3/8", "10.1.2/24", "x/24", "10.1.2.3 /24", "fe80::1%eth0/64", NULL};
	for (int i = 0; bad[i]; i++)
		if (ipam_addr_parse(bad[i], false, &p, NULL) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(ipam_addr_parse(NULL, false, &p, NULL), -EINVAL);
	struct ip_addr a;
	assert_int_equal(ipam_ip_parse("::ffff:10.0.0.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(fmt_ip(&a), "10.0.0.1");
	assert_int_equal(ipam_ip_parse("10.0.0.1/24", &a), -EINVAL);
}

static void contains(void **s)
{
	struct ip_prefix p;
	struct ip_addr a;
	assert_int_equal(ipam_addr_parse("10.1.2.3/24", true, &p, NULL), 0);
	assert_int_equal(ipam_ip_parse("10.1.2.254", &a), 0);
	assert_true(ipam_prefix_contains(&p, &a));
	assert_int_equal(ipam_ip_parse("10.1.3.1", &a), 0);
	assert_false(ipam_prefix_contains(&p, &a));
	assert_int_equal(ipam_addr_parse("10.1.2.3/20", true, &p, NULL), 0);
	assert_true(ipam_prefix_contains(&p, &a));
	assert_int_equal(ipam_ip_parse("fd00::1", &a), 0);
	assert_false(ipam_prefix_contains(&p, &a)); /* across families */
	assert_int_equal(ipam_addr_parse("fd00::5/127", true, &p, NULL), 0);
	assert_false(ipam_prefix_contains(&p, &a));
	assert_int_equal(ipam_ip_parse("fd00::4", &a), 0);
	assert_true(ipam_prefix_contains(&p, &a));
	assert_int_equal(ipam_addr_parse("0.0.0.0/0", true, &p, NULL), 0);
	assert_int_equal(ipam_ip_parse("192.0.2.1", &a), 0);
	assert_true(ipam_prefix_contains(&p, &a));
}

#define CONF(extra) "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"static\"}" extra "}"

static void requests_static(void **s)
{
	struct ipam_requests q;
	assert_int_equal(load("IP=10.0.0.9/24, 10.1.0.9/16 ,fd00::9/64;GATEWAY=10.0.0.1, 10.1.255.254,10.0.0.2",
			      CONF(",\"args\":{\"cni\":{\"ips\":[\"10.2.0.9/24\"]}},"
				   "\"runtimeConfig\":{\"ips\":[\"10.3.0.9/24\",\"::ffff:10.4.0.9/112\"]}"),
			      static_known),
			 0);
	assert_int_equal(ipam_requests_load(&ctx, IPAM_REQ_STATIC, &q), 0);
	assert_int_equal(q.cni_args.n, 3);
	assert_string_equal(fmt_prefix(&q.cni_args.v[0].addr), "10.0.0.9/24");
	assert_true(q.cni_args.v[0].has_gateway);
	assert_string_equal(fmt_ip(&q.cni_args.v[0].gateway), "10.0.0.2"); /* the last that fits wins */
	assert_string_equal(fmt_ip(&q.cni_args.v[1].gateway), "10.1.255.254");
	assert_false(q.cni_args.v[2].has_gateway);
	assert_int_equal(q.args.n, 1);
	assert_string_equal(fmt_prefix(&q.args.v[0].addr), "10.2.0.9/24");
	assert_int_equal(q.runtime.n, 2);
	assert_string_equal(fmt_prefix(&q.runtime.v[1].addr), "10.4.0.9/16");
	struct ipam_reqs all = {0};
	assert_int_equal(ipam_reqs_append(&all, &q.cni_args), 0);
	assert_int_equal(ipam_reqs_append(&all, &q.runtime), 0);
	assert_int_equal(all.n, 5);
	ipam_reqs_free(&all);
	ipam_requests_free(&q);

	/* nothing requested */
	assert_int_equal(load("IP=;GATEWAY=", CONF(",\"args\":{\"cni\":{}},\"runtimeConfig\":{\"ips\":[]}"), static_known), 0);
	assert_int_equal(ipam_requests_load(&ctx, IPAM_REQ_STATIC, &q), 0);
	assert_int_equal(q.cni_args.n + q.args.n + q.runtime.n, 0);
	ipam_requests_free(&q);
	assert_int_equal(load(NULL, CONF(",\"args\":null"), static_known), 0);
	assert_int_equal(ipam_requests_load(&ctx, IPAM_REQ_STATIC, &q), 0);
	ipam_requests_free(&q);
}

static void requests_static_errors(void **s)
{
	const struct {
		const char *args, *conf;
		int code;
		const char *needle;
	} bad[] = {
		{"IP=10.0.0.9", CONF(""), CNI_ERR_INVALID_ENV, "IP value \"10.0.0.9\""},
		{"IP=10.0.0.9/24,", CONF(""), CNI_ERR_INVALID_ENV, "IP value \"\""},
		{"IP=10.0.0.9/24;GATEWAY=10.0.0.1, nope", CONF(""), CNI_ERR_INVALID_ENV, "GATEWAY value \" nope\""},
		{NULL, CONF(",\"args\":{\"cni\":{\"ips\":[\"10.2.0.9\"]}}"), CNI_ERR_INVALID_CONFIG,
		 "\"args.cni.ips[0]\" value \"10.2.0.9\""},
		{NULL, CONF(",\"runtimeConfig\":{\"ips\":[\"10.3.0.9/24\",7]}"), CNI_ERR_INVALID_CONFIG,
		 "\"runtimeConfig.ips[1]\" must be a string"},
		{NULL, CONF(",\"runtimeConfig\":{\"ips\":\"10.3.0.9/24\"}"), CNI_ERR_INVALID_CONFIG,
		 "\"runtimeConfig.ips\" must be a list"},
		{NULL, CONF(",\"args\":{\"cni\":[]}"), CNI_ERR_INVALID_CONFIG, "\"args.cni\" must be an object"},
		{NULL, CONF(",\"args\":\"x\""), CNI_ERR_INVALID_CONFIG, "\"args\" must be an object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ipam_requests q;
		assert_int_equal(load(bad[i].args, bad[i].conf, static_known), 0);
		assert_int_equal(ipam_requests_load(&ctx, IPAM_REQ_STATIC, &q), -EINVAL);
		assert_error(bad[i].code, bad[i].needle);
		/* on failure nothing is left to free */
		assert_null(q.cni_args.v);
		assert_null(q.args.v);
		assert_null(q.runtime.v);
	}
}

static void requests_hostlocal(void **s)
{
	struct ipam_requests q;
	/* one address, bare or with a length; GATEWAY is no key of host-local's */
	assert_int_equal(load("IP=10.0.0.9", CONF(",\"args\":{\"cni\":{\"ips\":[\"10.2.0.9/24\",\"fd00::2\"]}}"), hl_known), 0);
	assert_int_equal(ipam_requests_load(&ctx, IPAM_REQ_HOSTLOCAL, &q), 0);
	assert_int_equal(q.cni_args.n, 1);
	assert_false(q.cni_args.v[0].has_len);
	assert_string_equal(fmt_prefix(&q.cni_args.v[0].addr), "10.0.0.9/32");
	assert_int_equal(q.args.n, 2);
	assert_true(q.args.v[0].has_len);
	assert_false(q.args.v[1].has_len);
	ipam_requests_free(&q);
	assert_int_equal(load("IP=10.0.0.9,10.0.0.10", CONF(""), hl_known), 0);
	assert_int_equal(ipam_requests_load(&ctx, IPAM_REQ_HOSTLOCAL, &q), -EINVAL);
	assert_error(CNI_ERR_INVALID_ENV, "IP value \"10.0.0.9,10.0.0.10\" is not an IP address");
	assert_int_equal(load("GATEWAY=10.0.0.1", CONF(""), hl_known), -EINVAL);
	assert_error(CNI_ERR_UNSUPPORTED_FIELD, "GATEWAY");
}

static void section(void **s)
{
	const cJSON *ipam;
	assert_int_equal(load(NULL, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", NULL), 0);
	assert_int_equal(ipam_section(&ctx, &ipam), -EINVAL);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam\" is missing");
	/* an empty ipam is no IPAM for a plugin, but it is the IPAM plugin's section */
	assert_int_equal(load(NULL, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{}}", NULL), 0);
	assert_int_equal(ipam_section(&ctx, &ipam), 0);
	assert_true(cJSON_IsObject(ipam));
}

static cJSON *ipam_of_json(const char *json)
{
	static cJSON *j;
	cJSON_Delete(j);
	j = cJSON_Parse(json);
	assert_non_null(j);
	return j;
}

static void routes_dns(void **s)
{
	struct cni_result *res = cni_result_new();
	assert_int_equal(
		ipam_routes_parse(ipam_of_json("{\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"10.1.2.3/8\",\"gw\":\"10.0.0.1\","
					       "\"mtu\":1400,\"table\":100,\"scope\":0},{\"dst\":\"::ffff:10.9.0.0/112\"}]}"),
				  res),
		0);
	assert_int_equal(res->n_routes, 3);
	assert_string_equal(fmt_prefix(&res->routes[1].dst), "10.1.2.3/8");
	assert_true(res->routes[1].has_gw);
	assert_int_equal(res->routes[1].mtu, 1400);
	assert_int_equal(res->routes[0].scope, -1);
	assert_string_equal(fmt_prefix(&res->routes[2].dst), "10.9.0.0/16");
	assert_int_equal(ipam_dns_parse(ipam_of_json("{\"dns\":{\"nameservers\":[\"1.1.1.1\"],\"domain\":\"\",\"search\":[],"
						     "\"options\":[\"ndots:2\"],\"other\":1}}"),
				       res),
			 0);
	char *d = cJSON_PrintUnformatted(res->dns);
	assert_string_equal(d, "{\"nameservers\":[\"1.1.1.1\"],\"options\":[\"ndots:2\"]}");
	free(d);
	cni_result_free(res);

	res = cni_result_new();
	assert_int_equal(ipam_routes_parse(ipam_of_json("{}"), res), 0);
	assert_int_equal(ipam_dns_parse(ipam_of_json("{\"dns\":{}}"), res), 0);
	assert_null(res->dns);
	assert_int_equal(res->n_routes, 0);
	const struct {
		const char *json, *needle;
	} bad[] = {
		{"{\"routes\":{}}", "\"ipam.routes\" must be a list"},
		{"{\"routes\":[1]}", "\"ipam.routes[0]\" must be an object"},
		{"{\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"gw\":\"10.0.0.1\"}]}", "\"ipam.routes[1]\": \"dst\""},
		{"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"fd00::1\"}]}", "\"gw\" is not an address of the same family (\"fd00::1\")"},
		{"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":-1}]}", "\"ipam.routes[0]\": mtu"},
		{"{\"dns\":[]}", "\"ipam.dns\" must be an object"},
		{"{\"dns\":{\"nameservers\":\"1.1.1.1\"}}", "\"ipam.dns.nameservers\" must be a list of strings"},
		{"{\"dns\":{\"search\":[1]}}", "\"ipam.dns.search\" must be a list of strings"},
		{"{\"dns\":{\"domain\":[]}}", "\"ipam.dns.domain\" must be a string"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cni_error_reset();
		const cJSON *j = ipam_of_json(bad[i].json);
		int r = cJSON_GetObjectItem(j, "routes") ? ipam_routes_parse(j, res) : ipam_dns_parse(j, res);
		assert_int_equal(r, -EINVAL);
		assert_error(CNI_ERR_INVALID_CONFIG, bad[i].needle);
	}
	cni_result_free(res);
	ipam_of_json("{}");
}

static void result_versions(void **s)
{
	struct ip_prefix p4, p6;
	struct ip_addr gw;
	struct cni_result *res = cni_result_new();
	assert_int_equal(ipam_addr_parse("10.0.0.5/24", true, &p4, NULL), 0);
	assert_int_equal(ipam_addr_parse("fd00::5/64", true, &p6, NULL), 0);
	assert_int_equal(ipam_ip_parse("10.0.0.1", &gw), 0);
	assert_int_equal(ipam_result_add_ip(res, &p4, &gw), 0);
	assert_int_equal(ipam_result_add_ip(res, &p6, NULL), 0);
	assert_int_equal(ipam_routes_parse(ipam_of_json("{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":1400}]}"), res), 0);
	const struct {
		const char *version, *want;
	} cases[] = {
		{"0.3.0", "{\"cniVersion\":\"0.3.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\"},"
			  "{\"version\":\"6\",\"address\":\"fd00::5/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}"},
		{"0.4.0", "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\"},"
			  "{\"version\":\"6\",\"address\":\"fd00::5/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}"},
		{"1.0.0", "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\"},"
			  "{\"address\":\"fd00::5/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}"},
		{"1.1.0", "{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\"},"
			  "{\"address\":\"fd00::5/64\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":1400}],\"dns\":{}}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char conf[128];
		snprintf(conf, sizeof(conf), "{\"cniVersion\":\"%s\",\"name\":\"n\",\"ipam\":{\"type\":\"static\"}}",
			 cases[i].version);
		assert_int_equal(load(NULL, conf, NULL), 0);
		cJSON *j = ipam_result_json(&ctx, res);
		char *out = cJSON_PrintUnformatted(j);
		assert_string_equal(out, cases[i].want);
		free(out);
		cJSON_Delete(j);
	}
	cni_result_free(res);
	ipam_of_json("{}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(addr_parse, reset_error),
		cmocka_unit_test_setup(contains, reset_error),
		cmocka_unit_test_setup_teardown(requests_static, reset_error, teardown),
		cmocka_unit_test_setup_teardown(requests_static_errors, reset_error, teardown),
		cmocka_unit_test_setup_teardown(requests_hostlocal, reset_error, teardown),
		cmocka_unit_test_setup_teardown(section, reset_error, teardown),
		cmocka_unit_test_setup(routes_dns, reset_error),
		cmocka_unit_test_setup_teardown(result_versions, reset_error, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

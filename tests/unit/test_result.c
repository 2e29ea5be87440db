/* Results: parsing every version, printing every version, merging. */
#include <stdlib.h>
#include "unit.h"
#include "ucni/result.h"

static struct cni_result *parse_ok(const char *json)
{
	struct cni_result *r = NULL;
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	cni_error_reset();
	assert_int_equal(cni_result_parse(j, "test", &r), 0);
	cJSON_Delete(j);
	return r;
}

static void parse_bad(const char *json, int code, const char *needle)
{
	struct cni_result *r = NULL;
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	cni_error_reset();
	assert_true(cni_result_parse(j, "test", &r) < 0);
	assert_null(r);
	assert_error(code, needle);
	cJSON_Delete(j);
}

static const char *full110 =
	"{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\","
	"\"mtu\":1400,\"sandbox\":\"/var/run/netns/x\",\"pciID\":\"0000:01:10.0\",\"socketPath\":\"/s\"}],"
	"\"ips\":[{\"interface\":0,\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"},"
	"{\"interface\":0,\"address\":\"fd00::3/64\",\"gateway\":\"fd00::1\"}],"
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.2.1\",\"mtu\":1300,\"advmss\":1200,"
	"\"priority\":10,\"table\":100,\"scope\":0},{\"dst\":\"::/0\"}],"
	"\"dns\":{\"nameservers\":[\"10.1.2.1\"]}}";

static char *print(const struct cni_result *r, enum cni_version v)
{
	cJSON *o = cni_result_to_json(r, v);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void parse_110(void **s)
{
	struct cni_result *r = parse_ok(full110);
	assert_int_equal(r->n_ifaces, 1);
	assert_int_equal(r->ifaces[0].mtu, 1400);
	assert_string_equal(r->ifaces[0].pci_id, "0000:01:10.0");
	assert_int_equal(r->n_ips, 2);
	assert_int_equal(r->ips[1].address.family, AF_INET6);
	assert_int_equal(r->ips[1].address.len, 64);
	assert_int_equal(r->n_routes, 2);
	assert_int_equal(r->routes[0].table, 100);
	assert_int_equal(r->routes[1].scope, -1);
	assert_non_null(r->dns);
	cni_result_free(r);
}

static void print_110_keeps_everything(void **s)
{
	struct cni_result *r = parse_ok(full110);
	char *out = print(r, CNI_V110);
	assert_non_null(strstr(out, "\"cniVersion\":\"1.1.0\""));
	assert_non_null(strstr(out, "\"mtu\":1400"));
	assert_non_null(strstr(out, "\"pciID\":\"0000:01:10.0\""));
	assert_non_null(strstr(out, "\"socketPath\":\"/s\""));
	assert_non_null(strstr(out, "\"table\":100"));
	assert_non_null(strstr(out, "\"advmss\":1200"));
	assert_non_null(strstr(out, "\"scope\":0"));
	assert_null(strstr(out, "\"version\""));
	free(out);
	cni_result_free(r);
}

static void print_100_drops_110_fields(void **s)
{
	struct cni_result *r = parse_ok(full110);
	char *out = print(r, CNI_V100);
	assert_non_null(strstr(out, "\"cniVersion\":\"1.0.0\""));
	assert_null(strstr(out, "\"mtu\""));
	assert_null(strstr(out, "pciID"));
	assert_null(strstr(out, "socketPath"));
	assert_null(strstr(out, "\"table\""));
	assert_null(strstr(out, "\"version\""));
	assert_non_null(strstr(out, "\"address\":\"10.1.2.3/24\""));
	free(out);
	cni_result_free(r);
}

static void print_03x_04_add_ip_version(void **s)
{
	struct cni_result *r = parse_ok(full110);
	for (enum cni_version v = CNI_V030; v <= CNI_V040; v++) {
		char *out = print(r, v);
		cJSON *j = cJSON_Parse(out);
		cJSON *ips = cJSON_GetObjectItem(j, "ips");
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ips, 0), "version")->valuestring, "4");
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ips, 1), "version")->valuestring, "6");
		assert_string_equal(cJSON_GetObjectItem(j, "cniVersion")->valuestring, cni_version_str(v));
		assert_null(strstr(out, "pciID"));
		cJSON_Delete(j);
		free(out);
	}
	cni_result_free(r);
}

static void parse_03x_with_version(void **s)
{
	struct cni_result *r = parse_ok("{\"cniVersion\":\"0.3.1\",\"ips\":[{\"version\":\"4\","
					"\"address\":\"192.168.1.5/24\",\"gateway\":\"192.168.1.1\"}],"
					"\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}");
	assert_int_equal(r->n_ips, 1);
	assert_int_equal(r->ips[0].iface, -1);
	assert_true(r->ips[0].has_gateway);
	/* round trip through 1.0.0 and back keeps the data */
	char *a = print(r, CNI_V100);
	struct cni_result *r2 = parse_ok(a);
	char *b = print(r2, CNI_V031);
	assert_non_null(strstr(b, "\"version\":\"4\""));
	assert_non_null(strstr(b, "\"gateway\":\"192.168.1.1\""));
	free(a);
	free(b);
	cni_result_free(r);
	cni_result_free(r2);
}

static void empty_result_has_dns_object(void **s)
{
	struct cni_result *r = cni_result_new();
	char *out = print(r, CNI_V040);
	assert_string_equal(out, "{\"cniVersion\":\"0.4.0\",\"dns\":{}}");
	free(out);
	cni_result_free(r);
}

static void bad_results(void **s)
{
	parse_bad("{\"ips\":[{\"address\":\"10.0.0.1\"}]}", CNI_ERR_DECODE, "ips[0]: \"address\"");
	parse_bad("{\"ips\":[{\"address\":\"10.0.0.1/33\"}]}", CNI_ERR_DECODE, "\"10.0.0.1/33\"");
	parse_bad("{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"fd00::1\"}]}", CNI_ERR_DECODE, "gateway");
	parse_bad("{\"interfaces\":[{\"name\":\"a\"}],\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":2}]}", CNI_ERR_DECODE, "\"interface\"");
	parse_bad("{\"ips\":[{\"version\":\"6\",\"address\":\"10.0.0.1/24\"}]}", CNI_ERR_DECODE, "\"version\"");
	parse_bad("{\"ips\":{}}", CNI_ERR_DECODE, "ips: must be an array");
	parse_bad("{\"interfaces\":[{\"mac\":\"x\"}]}", CNI_ERR_DECODE, "interfaces[0]");
	parse_bad("{\"routes\":[{\"dst\":\"nope\"}]}", CNI_ERR_DECODE, "routes[0]");
	parse_bad("{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"fd00::1\"}]}", CNI_ERR_DECODE, "\"gw\"");
	parse_bad("{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"mtu\":-5}]}", CNI_ERR_DECODE, "routes[0]");
	parse_bad("{\"cniVersion\":\"0.1.0\"}", CNI_ERR_INCOMPATIBLE_VERSION, "0.1.0");
	parse_bad("{\"dns\":[]}", CNI_ERR_DECODE, "dns");
}

static void merge_ipam_into_chain(void **s)
{
	struct cni_result *prev = parse_ok("{\"interfaces\":[{\"name\":\"a\"},{\"name\":\"b\",\"sandbox\":\"/n\"}],"
					   "\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":1}]}");
	struct cni_result *ipam = parse_ok("{\"ips\":[{\"address\":\"10.9.0.2/24\",\"interface\":0}],"
					   "\"routes\":[{\"dst\":\"10.8.0.0/16\"}],\"dns\":{\"domain\":\"x\"}}");
	int idx = cni_result_add_iface(prev, "eth1", "02:00:00:00:00:02", "/n", 1500);
	assert_int_equal(idx, 2);
	assert_int_equal(cni_result_merge(prev, ipam, idx), 0);
	assert_int_equal(prev->n_ips, 2);
	assert_int_equal(prev->ips[0].iface, 1);
	assert_int_equal(prev->ips[1].iface, 2);
	assert_int_equal(prev->n_routes, 1);
	assert_non_null(prev->dns);
	struct cni_result *d = cni_result_dup(prev);
	assert_int_equal(d->n_ifaces, 3);
	assert_int_equal(d->ips[1].iface, 2);
	cni_result_free(d);
	cni_result_free(prev);
	cni_result_free(ipam);
}

static void prefixes(void **s)
{
	struct ip_prefix p;
	char buf[IP_PREFIX_STRLEN];
	assert_int_equal(ip_prefix_parse("10.1.2.3/0", &p), 0);
	assert_int_equal(ip_prefix_parse("fd00::1/128", &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf, sizeof(buf)), "fd00::1/128");
	const char *bad[] = {"10.1.2.3", "10.1.2.3/", "10.1.2.3/-1", "10.1.2.3/+8", "10.1.2.3/8x",
			     "fd00::/129", "x/8", "/8", "10.1.2.3/ 8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_true(ip_prefix_parse(bad[i], &p) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(parse_110, reset_error),
		cmocka_unit_test_setup(print_110_keeps_everything, reset_error),
		cmocka_unit_test_setup(print_100_drops_110_fields, reset_error),
		cmocka_unit_test_setup(print_03x_04_add_ip_version, reset_error),
		cmocka_unit_test_setup(parse_03x_with_version, reset_error),
		cmocka_unit_test_setup(empty_result_has_dns_object, reset_error),
		cmocka_unit_test_setup(bad_results, reset_error),
		cmocka_unit_test_setup(merge_ipam_into_chain, reset_error),
		cmocka_unit_test_setup(prefixes, reset_error),
	};
	return cmocka_run_group_tests_name("result", tests, NULL, NULL);
}

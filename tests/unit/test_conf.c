/* Network configuration: common keys and the typed accessors' errors. */
#include <stdio.h>
#include <stdlib.h>
#include "unit.h"
#include "ucni/result.h"

static struct cni_conf conf;

static int parse(const char *json)
{
	cni_conf_free(&conf);
	cni_error_reset();
	char *raw = strdup(json);
	return cni_conf_parse(&conf, raw, strlen(raw));
}

static int teardown(void **s)
{
	cni_conf_free(&conf);
	return 0;
}

static void minimal(void **s)
{
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"macvlan\"}"), 0);
	assert_int_equal(conf.version, CNI_V100);
	assert_string_equal(conf.name, "n");
	assert_null(conf.ipam);
	assert_null(conf.prev);
}

static void every_version(void **s)
{
	const char *v[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
	for (int i = 0; i < 5; i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "{\"cniVersion\":\"%s\",\"name\":\"n\"}", v[i]);
		assert_int_equal(parse(buf), 0);
		assert_int_equal(conf.version, i);
	}
}

static void decode_errors(void **s)
{
	const char *bad[] = {"", "   \n", "{", "[1,2]", "\"str\"", "{\"cniVersion\":\"1.0.0\",}", "nul"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_true(parse(bad[i]) < 0);
		assert_int_equal(cni_error_code(), CNI_ERR_DECODE);
	}
}

static void version_errors(void **s)
{
	assert_true(parse("{\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"cniVersion\" is missing");
	assert_true(parse("{\"cniVersion\":\"0.2.0\",\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INCOMPATIBLE_VERSION, "\"0.2.0\"");
	assert_true(parse("{\"cniVersion\":\"9.9.9\",\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INCOMPATIBLE_VERSION, "9.9.9");
	assert_true(parse("{\"cniVersion\":1,\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"cniVersion\" must be a string");
}

static void name_errors(void **s)
{
	assert_true(parse("{\"cniVersion\":\"1.0.0\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"name\" is missing");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"name\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":5}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"name\" must be a string, got 5");
}

static void ipam(void **s)
{
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{}}"), 0);
	assert_null(conf.ipam_type);
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"\"}}"), 0);
	assert_null(conf.ipam_type);
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"}}"), 0);
	assert_string_equal(conf.ipam_type, "host-local");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"../../bin/sh\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" value \"../../bin/sh\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"..\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "ipam.type");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"subnet\":\"10.0.0.0/8\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" is missing");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":\"static\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam\" must be an object");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":7}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" must be a string, got 7");
}

static void objects(void **s)
{
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"dns\":[]}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"dns\" must be an object");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"runtimeConfig\":1}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"runtimeConfig\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":[]}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"prevResult\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logLevel\":\"loud\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"logLevel\" value \"loud\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logFile\":\"rel/x.log\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"logFile\" value \"rel/x.log\" must be an absolute path");
}

static void prev_result(void **s)
{
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"cniVersion\":\"1.0.0\","
			       "\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
			       "\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":0}]}}"),
			 0);
	assert_non_null(conf.prev);
	assert_int_equal(conf.prev->n_ifaces, 1);
	assert_int_equal(conf.prev->n_ips, 1);
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"ips\":[{\"address\":\"x\"}]}}") < 0);
	assert_error(CNI_ERR_DECODE, "prevResult: ips[0]");
}

static const cJSON *obj(const char *json)
{
	static cJSON *o;
	cJSON_Delete(o);
	cni_error_reset();
	o = cJSON_Parse(json);
	return o;
}

static void accessors(void **s)
{
	long long v;
	bool b;
	int e;
	const char *str;
	unsigned char mac[6];
	static const char *const modes[] = {"bridge", "private", NULL};

	assert_int_equal(conf_int(obj("{}"), NULL, "mtu", 0, 65535, &v), 0);
	assert_int_equal(conf_int(obj("{\"mtu\":null}"), NULL, "mtu", 0, 65535, &v), 0);
	assert_int_equal(conf_int(obj("{\"mtu\":1400}"), NULL, "mtu", 0, 65535, &v), 1);
	assert_int_equal(v, 1400);
	assert_true(conf_int(obj("{\"mtu\":\"1400\"}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mtu\" must be an integer, got \"1400\"");
	assert_true(conf_int(obj("{\"mtu\":1.5}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mtu\" must be an integer, got 1.5");
	assert_true(conf_int(obj("{\"mtu\":-1}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mtu\" value -1 is out of range");
	assert_true(conf_int(obj("{\"mtu\":70000}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "70000");

	assert_int_equal(conf_bool(obj("{\"x\":true}"), NULL, "x", &b), 1);
	assert_true(b);
	assert_true(conf_bool(obj("{\"x\":\"yes\"}"), NULL, "x", &b) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"x\" must be true or false, got \"yes\"");

	assert_int_equal(conf_enum(obj("{\"mode\":\"private\"}"), NULL, "mode", modes, &e), 1);
	assert_int_equal(e, 1);
	assert_true(conf_enum(obj("{\"mode\":\"loud\"}"), NULL, "mode", modes, &e) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mode\" has unknown value \"loud\" (expected one of: bridge, private)");

	assert_int_equal(conf_string(obj("{\"s\":\"v\"}"), "ipam", "s", &str), 1);
	assert_true(conf_string(obj("{\"s\":{}}"), "ipam", "s", &str) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.s\" must be a string");

	assert_int_equal(conf_mac(obj("{\"mac\":\"02:AA:bb:00:00:01\"}"), NULL, "mac", mac), 1);
	assert_int_equal(mac[1], 0xaa);
	const char *bad[] = {"{\"mac\":\"02:aa:bb:00:00\"}", "{\"mac\":\"02:aa:bb:00:00:0g\"}",
			     "{\"mac\":\"02-aa-bb-00-00-01\"}", "{\"mac\":\"02:aa:bb:00:00:011\"}"};
	for (size_t i = 0; i < 4; i++) {
		assert_true(conf_mac(obj(bad[i]), NULL, "mac", mac) < 0);
		assert_error(CNI_ERR_INVALID_CONFIG, "is not a MAC address");
	}
	assert_true(conf_mac(obj("{\"mac\":\"01:00:5e:00:00:01\"}"), "runtimeConfig", "mac", mac) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"runtimeConfig.mac\" value \"01:00:5e:00:00:01\" is a multicast address");
	assert_true(conf_mac(obj("{\"mac\":\"00:00:00:00:00:00\"}"), NULL, "mac", mac) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "all-zero");
	obj("{}");
}

static void mac_format(void **s)
{
	unsigned char m[6] = {0x02, 0xab, 0, 1, 0xff, 0x10};
	char buf[18];
	format_mac(m, buf);
	assert_string_equal(buf, "02:ab:00:01:ff:10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(minimal, reset_error),
		cmocka_unit_test_setup(every_version, reset_error),
		cmocka_unit_test_setup(decode_errors, reset_error),
		cmocka_unit_test_setup(version_errors, reset_error),
		cmocka_unit_test_setup(name_errors, reset_error),
		cmocka_unit_test_setup(ipam, reset_error),
		cmocka_unit_test_setup(objects, reset_error),
		cmocka_unit_test_setup(prev_result, reset_error),
		cmocka_unit_test_setup(accessors, reset_error),
		cmocka_unit_test_setup(mac_format, reset_error),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, teardown);
}

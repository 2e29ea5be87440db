/* Environment, CNI_ARGS, ifname and container id validation. */
#include <stdlib.h>
#include "unit.h"

static const char *const known[] = {"MAC", NULL};

static void ifname_valid(void **s)
{
	assert_int_equal(cni_validate_ifname("eth0", "CNI_IFNAME"), 0);
	assert_int_equal(cni_validate_ifname("123456789012345", "CNI_IFNAME"), 0);
	assert_int_equal(cni_validate_ifname("net1-x_y", "CNI_IFNAME"), 0);
	assert_false(cni_failed());
}

static void ifname_too_long(void **s)
{
	assert_true(cni_validate_ifname("1234567890123456", "CNI_IFNAME") < 0);
	assert_error(CNI_ERR_INVALID_ENV, "too long");
}

static void ifname_bad(void **s)
{
	const char *bad[] = {"", ".", "..", "a/b", "a:b", "a b", "a\tb", "a\nb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cni_error_reset();
		assert_true(cni_validate_ifname(bad[i], "CNI_IFNAME") < 0);
		assert_error(CNI_ERR_INVALID_ENV, "CNI_IFNAME");
	}
}

static void containerid(void **s)
{
	assert_int_equal(cni_validate_containerid("abc-DEF_1.2"), 0);
	char longid[300];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_true(cni_validate_containerid(longid) < 0);
	assert_error(CNI_ERR_INVALID_ENV, "too long");
	longid[255] = '\0';
	cni_error_reset();
	assert_int_equal(cni_validate_containerid(longid), 0);
	const char *bad[] = {"", "-abc", "a/b", "../x", "a b", ".hidden", "a;b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cni_error_reset();
		assert_true(cni_validate_containerid(bad[i]) < 0);
		assert_error(CNI_ERR_INVALID_ENV, "CNI_CONTAINERID");
	}
}

static void args_known(void **s)
{
	struct cni_env env = {0};
	assert_int_equal(cni_args_parse(&env, "MAC=aa:bb:cc:dd:ee:ff", known), 0);
	assert_string_equal(cni_env_arg(&env, "MAC"), "aa:bb:cc:dd:ee:ff");
	assert_null(cni_env_arg(&env, "OTHER"));
	cni_env_free(&env);
}

static void args_unknown_refused(void **s)
{
	struct cni_env env = {0};
	assert_true(cni_args_parse(&env, "K8S_POD_NAME=x;FOO=bar", known) < 0);
	assert_error(CNI_ERR_UNSUPPORTED_FIELD, "\"K8S_POD_NAME\"");
	cni_env_free(&env);
}

static void args_ignore_unknown(void **s)
{
	struct cni_env env = {0};
	assert_int_equal(cni_args_parse(&env, "IgnoreUnknown=1;FOO=bar;MAC=02:00:00:00:00:01", known), 0);
	assert_true(env.ignore_unknown);
	assert_string_equal(cni_env_arg(&env, "FOO"), "bar");
	cni_env_free(&env);
	memset(&env, 0, sizeof(env));
	assert_int_equal(cni_args_parse(&env, "IgnoreUnknown=true;X=", known), 0);
	assert_string_equal(cni_env_arg(&env, "X"), "");
	cni_env_free(&env);
}

static void args_ignore_false(void **s)
{
	struct cni_env env = {0};
	assert_true(cni_args_parse(&env, "IgnoreUnknown=0;FOO=bar", known) < 0);
	assert_error(CNI_ERR_UNSUPPORTED_FIELD, "FOO");
	cni_env_free(&env);
}

static void args_bad_pair(void **s)
{
	struct cni_env env = {0};
	assert_true(cni_args_parse(&env, "MAC", known) < 0);
	assert_error(CNI_ERR_INVALID_ENV, "invalid pair \"MAC\"");
	cni_env_free(&env);
	cni_error_reset();
	memset(&env, 0, sizeof(env));
	assert_true(cni_args_parse(&env, "=x", known) < 0);
	assert_error(CNI_ERR_INVALID_ENV, "invalid pair");
	cni_env_free(&env);
}

static void args_empty(void **s)
{
	struct cni_env env = {0};
	assert_int_equal(cni_args_parse(&env, "", known), 0);
	assert_int_equal(cni_args_parse(&env, NULL, known), 0);
	assert_int_equal(env.n_args, 0);
}

static void set_env(const char *cmd, const char *id, const char *ns, const char *ifn, const char *path)
{
	const char *names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"};
	const char *vals[] = {cmd, id, ns, ifn, path};
	for (int i = 0; i < 5; i++)
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	unsetenv("CNI_ARGS");
}

static void env_add_complete(void **s)
{
	struct cni_env env = {0};
	set_env("ADD", "c1", "/run/netns/x", "eth0", "/opt/cni/bin");
	assert_int_equal(cni_env_load(&env, known), 0);
	assert_int_equal(env.verb, CNI_ADD);
	assert_string_equal(env.ifname, "eth0");
	cni_env_free(&env);
}

static void env_missing(void **s)
{
	struct {
		const char *cmd, *id, *ns, *ifn, *path, *missing;
	} cases[] = {
		{"ADD", NULL, "/n", "eth0", "/p", "CNI_CONTAINERID"},
		{"ADD", "c", NULL, "eth0", "/p", "CNI_NETNS"},
		{"ADD", "c", "/n", NULL, "/p", "CNI_IFNAME"},
		{"ADD", "c", "/n", "eth0", NULL, "CNI_PATH"},
		{"CHECK", "c", NULL, "eth0", "/p", "CNI_NETNS"},
		{"DEL", "c", NULL, NULL, "/p", "CNI_IFNAME"},
		{"GC", NULL, NULL, NULL, NULL, "CNI_PATH"},
		{"STATUS", NULL, NULL, NULL, NULL, "CNI_PATH"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct cni_env env = {0};
		cni_error_reset();
		set_env(cases[i].cmd, cases[i].id, cases[i].ns, cases[i].ifn, cases[i].path);
		assert_true(cni_env_load(&env, known) < 0);
		assert_error(CNI_ERR_INVALID_ENV, cases[i].missing);
		cni_env_free(&env);
	}
}

static void env_del_without_netns(void **s)
{
	struct cni_env env = {0};
	set_env("DEL", "c1", NULL, "eth0", "/p");
	assert_int_equal(cni_env_load(&env, known), 0);
	assert_int_equal(env.verb, CNI_DEL);
	cni_env_free(&env);
}

static void env_unknown_command(void **s)
{
	struct cni_env env = {0};
	set_env("FROB", "c1", "/n", "eth0", "/p");
	assert_true(cni_env_load(&env, known) < 0);
	assert_error(CNI_ERR_INVALID_ENV, "CNI_COMMAND \"FROB\"");
}

static void env_version_needs_nothing(void **s)
{
	struct cni_env env = {0};
	set_env("VERSION", "", "dummy", "dummy", "dummy");
	assert_int_equal(cni_env_load(&env, known), 0);
	assert_int_equal(env.verb, CNI_VERSION);
}

static void verbs_and_versions(void **s)
{
	for (int v = 0; v < CNI_VERB_COUNT; v++)
		assert_int_equal(cni_verb_parse(cni_verb_str(v)), v);
	for (int v = 0; v < CNI_V_COUNT; v++)
		assert_int_equal(cni_version_parse(cni_version_str(v)), v);
	assert_int_equal(cni_version_parse("0.2.0"), -1);
	assert_int_equal(cni_version_parse("1.1"), -1);
	assert_int_equal(cni_verb_parse("add"), -1);
	cJSON *vi = cni_version_info();
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(vi, "supportedVersions")), 5);
	assert_string_equal(cJSON_GetObjectItem(vi, "cniVersion")->valuestring, "1.1.0");
	cJSON_Delete(vi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(ifname_valid, reset_error),
		cmocka_unit_test_setup(ifname_too_long, reset_error),
		cmocka_unit_test_setup(ifname_bad, reset_error),
		cmocka_unit_test_setup(containerid, reset_error),
		cmocka_unit_test_setup(args_known, reset_error),
		cmocka_unit_test_setup(args_unknown_refused, reset_error),
		cmocka_unit_test_setup(args_ignore_unknown, reset_error),
		cmocka_unit_test_setup(args_ignore_false, reset_error),
		cmocka_unit_test_setup(args_bad_pair, reset_error),
		cmocka_unit_test_setup(args_empty, reset_error),
		cmocka_unit_test_setup(env_add_complete, reset_error),
		cmocka_unit_test_setup(env_missing, reset_error),
		cmocka_unit_test_setup(env_del_without_netns, reset_error),
		cmocka_unit_test_setup(env_unknown_command, reset_error),
		cmocka_unit_test_setup(env_version_needs_nothing, reset_error),
		cmocka_unit_test_setup(verbs_and_versions, reset_error),
	};
	return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}

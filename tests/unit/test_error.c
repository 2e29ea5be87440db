/* The error JSON: first error wins, codes, details, versions. */
#include <errno.h>
#include <stdlib.h>
#include "unit.h"

static cJSON *err_json(const char *v)
{
	return cni_error_json(v);
}

static void first_error_wins(void **s)
{
	assert_int_equal(cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"mode\" bad"), -EINVAL);
	assert_int_equal(cni_fail(CNI_ERR_KERNEL, -ENODEV, "later"), -ENODEV);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mode\"");
}

static void positive_r_becomes_einval(void **s)
{
	assert_int_equal(cni_fail(CNI_ERR_INVALID_CONFIG, 0, "x"), -EINVAL);
}

static void json_shape(void **s)
{
	cni_fail(CNI_ERR_KERNEL, -EOPNOTSUPP, "creating the link failed");
	cJSON *j = err_json("0.4.0");
	assert_string_equal(cJSON_GetObjectItem(j, "cniVersion")->valuestring, "0.4.0");
	assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, 100);
	assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring, "creating the link failed");
	assert_non_null(strstr(cJSON_GetObjectItem(j, "details")->valuestring, "not supported"));
	cJSON_Delete(j);
}

static void config_errors_have_no_errno_details(void **s)
{
	cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"mtu\" ...");
	cJSON *j = err_json(NULL);
	assert_null(cJSON_GetObjectItem(j, "details"));
	assert_string_equal(cJSON_GetObjectItem(j, "cniVersion")->valuestring, "1.1.0");
	cJSON_Delete(j);
}

static void taken_over_from_plugin(void **s)
{
	cJSON *e = cJSON_Parse("{\"code\":11,\"msg\":\"no IP addresses available\",\"details\":\"range full\"}");
	cni_fail_from_json(e, "IPAM plugin \"host-local\"");
	cJSON_Delete(e);
	cJSON *j = err_json("1.0.0");
	assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, 11);
	assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring,
			    "IPAM plugin \"host-local\": no IP addresses available");
	assert_string_equal(cJSON_GetObjectItem(j, "details")->valuestring, "range full");
	cJSON_Delete(j);
	cni_error_reset();
	e = cJSON_Parse("{\"msg\":\"boom\"}");
	cni_fail_from_json(e, "IPAM");
	cJSON_Delete(e);
	assert_error(CNI_ERR_IPAM, "IPAM: boom");
}

static void no_error_is_internal(void **s)
{
	assert_false(cni_failed());
	cJSON *j = err_json(NULL);
	assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, CNI_ERR_INTERNAL);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(first_error_wins, reset_error),
		cmocka_unit_test_setup(positive_r_becomes_einval, reset_error),
		cmocka_unit_test_setup(json_shape, reset_error),
		cmocka_unit_test_setup(config_errors_have_no_errno_details, reset_error),
		cmocka_unit_test_setup(taken_over_from_plugin, reset_error),
		cmocka_unit_test_setup(no_error_is_internal, reset_error),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}

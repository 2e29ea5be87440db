/* The rules for names from outside (lib/base/valid.c), and the CNI checks built on them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "unit.h"

#include "ucni/valid.h"

static void ifname_rule(void **state)
{
	(void)state;
	const char *good[] = {"eth0", "123456789012345", "net1-x_y", "a.b", "\xc3\xa9th0", "-"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_null(ifname_problem(good[i]));
		assert_int_equal(cni_validate_ifname(good[i], "CNI_IFNAME"), 0);
	}
	assert_string_equal(ifname_problem(NULL), "is empty");
	assert_string_equal(ifname_problem(""), "is empty");
	assert_string_equal(ifname_problem("1234567890123456"), "is too long (at most 15 characters)");
	assert_string_equal(ifname_problem("."), "is not a valid name");
	assert_string_equal(ifname_problem(".."), "is not a valid name");
	const char *bad[] = {"a/b", "a:b", "a b", "a\tb", "a\nb", "a\x01", "a\x7f", "\x1f"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_string_equal(ifname_problem(bad[i]), "contains an invalid character");
		cni_error_reset();
		assert_int_equal(cni_validate_ifname(bad[i], "CNI_IFNAME"), -EINVAL);
		assert_error(CNI_ERR_INVALID_ENV, "contains an invalid character");
	}
	assert_ptr_equal(cni_ifname_problem("a/b"), ifname_problem("a/b"));
}

static void id_rule(void **state)
{
	char id[300];
	(void)state;
	assert_int_equal(id_check("abc-DEF_1.2"), ID_OK);
	assert_int_equal(id_check("0"), ID_OK);
	memset(id, 'a', ID_LEN_MAX);
	id[ID_LEN_MAX] = '\0';
	assert_int_equal(id_check(id), ID_OK);
	id[ID_LEN_MAX] = 'a';
	id[ID_LEN_MAX + 1] = '\0';
	assert_int_equal(id_check(id), ID_TOO_LONG);
	cni_error_reset();
	assert_true(cni_validate_containerid(id) < 0);
	assert_error(CNI_ERR_INVALID_ENV, "is too long (256 characters, at most 255)");
	assert_int_equal(id_check(NULL), ID_EMPTY);
	assert_int_equal(id_check(""), ID_EMPTY);
	cni_error_reset();
	assert_true(cni_validate_containerid("") < 0);
	assert_error(CNI_ERR_INVALID_ENV, "CNI_CONTAINERID is empty");
	/* letters and digits are ASCII ones, whatever the locale */
	const char *bad[] = {"-a", ".a", "_a", "a/b", "a b", "a:b", "\xc3\xa9", "a\xc3\xa9", "a\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(id_check(bad[i]), ID_BAD_CHAR);
		cni_error_reset();
		assert_true(cni_validate_containerid(bad[i]) < 0);
		assert_error(CNI_ERR_INVALID_ENV, "has invalid characters");
	}
}

static void pci_rule(void **state)
{
	char a[PCI_ADDR_SIZE];
	(void)state;
	assert_true(pci_addr_valid("0000:3b:1f.7"));
	assert_true(pci_addr_valid("ffff:ff:00.0"));
	const char *not_canonical[] = {"0000:3B:01.0", "0000:3b:20.0", "0000:3b:01.8", "0000:3b:01.0 ", "000:3b:01.0",
				       "0000-3b:01.0", "3b:01.0", ""};
	for (size_t i = 0; i < sizeof(not_canonical) / sizeof(not_canonical[0]); i++)
		assert_false(pci_addr_valid(not_canonical[i]));
	assert_int_equal(pci_addr_normalize("0000:3B:01.0", a), 0);
	assert_string_equal(a, "0000:3b:01.0");
	assert_int_equal(pci_addr_normalize("3b:01.7", a), 0);
	assert_string_equal(a, "0000:3b:01.7");
	const char *bad[] = {NULL, "", "3b:01", "0000:3b:01.0.1", "0000:3b:01.9", "g000:3b:01.0", "3b:21.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pci_addr_normalize(bad[i], a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ifname_rule),
		cmocka_unit_test(id_rule),
		cmocka_unit_test(pci_rule),
	};
	return cmocka_run_group_tests_name("valid", tests, NULL, NULL);
}

/* Unit tests of libdevmgr: VF ranges, the pool configuration, pool matching, the device
 * lookup and inventory on a generated fake sysfs, the allocation store, the JSON shapes. */
/* paths here are short temporary directories: truncation cannot happen */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <pci/pci.h>

#include "../../devmgr/internal.h"
#include "fixture.h"

static char fixture[320];   /* the standard fake sysfs tree */

/* ------------------------------------------------------------ VF ranges */

static void test_range_valid(void **state)
{
	vf_range r;
	assert_int_equal(vf_range_parse("0,2-7", &r), 0);
	assert_true(vf_range_has(&r, 0));
	assert_false(vf_range_has(&r, 1));
	for (int i = 2; i <= 7; i++)
		assert_true(vf_range_has(&r, i));
	assert_false(vf_range_has(&r, 8));
	assert_int_equal(vf_range_parse("5", &r), 0);
	assert_true(vf_range_has(&r, 5));
	assert_false(vf_range_has(&r, 4));
	assert_int_equal(vf_range_parse("3-3,4095", &r), 0);
	assert_true(vf_range_has(&r, 3) && vf_range_has(&r, 4095));
}

static void test_range_invalid(void **state)
{
	static const char *const bad[] = { "", "a", "1,", ",1", "1-", "-1", "1--2", "1 2", "0x3", "1,,2", "2-a" };
	vf_range r;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(vf_range_parse(bad[i], &r), -EINVAL);
	assert_int_equal(vf_range_parse("7-2", &r), -ERANGE);
	assert_int_equal(vf_range_parse("4096", &r), -ERANGE);
	assert_int_equal(vf_range_parse("0-99999999999999999999", &r), -ERANGE);
}

/* ------------------------------------------------------------ config */

static const char *good_config =
	"{\"pfs\": [{\"name\": \"ens1f0\", \"numVfs\": 8}, {\"pciAddress\": \"0000:AF:00.0\", \"numVfs\": 4}],"
	" \"resourceList\": ["
	"  {\"resourceName\": \"dpdk\", \"resourcePrefix\": \"ucni.io\", \"deviceType\": \"netDevice\","
	"   \"selectors\": {\"vendors\": [\"8086\"], \"drivers\": [\"vfio-pci\"], \"isRdma\": false}},"
	"  {\"resourceName\": \"low\", \"selectors\": [{\"pfNames\": [\"ens1f0#0,2-3\"]}, {\"rootDevices\": [\"0000:af:00.0#0-1\"]}]},"
	"  {\"resourceName\": \"rest\", \"excludeTopology\": true, \"selectors\": [{\"vendors\": [\"0x8086\", \"15b3\"], \"linkTypes\": [\"ether\"]}]}"
	" ]}";

static void test_config_good(void **state)
{
	dm_config *c = NULL;
	char err[256] = "";
	assert_int_equal(dm_config_parse(good_config, &c, err, sizeof(err)), 0);
	assert_int_equal(dm_config_pool_count(c), 3);
	assert_string_equal(dm_config_pool_name(c, 0), "dpdk");
	assert_string_equal(dm_config_pool_prefix(c, 0), "ucni.io");
	assert_null(dm_config_pool_prefix(c, 1));
	assert_int_equal(dm_config_pool_index(c, "rest"), 2);
	assert_int_equal(dm_config_pool_index(c, "nope"), -ENOENT);
	assert_int_equal(dm_config_pf_count(c), 2);
	assert_string_equal(dm_config_pf(c, 0)->name, "ens1f0");
	assert_int_equal(dm_config_pf(c, 0)->num_vfs, 8);
	assert_string_equal(dm_config_pf(c, 1)->pci, "0000:af:00.0"); /* normalized */
	dm_config_free(c);
}

/* The pfs provisioning keys as parsed: values, defaults, the VF groups. */
static void test_config_pf_keys(void **state)
{
	dm_config *c = NULL;
	char err[256] = "";
	assert_int_equal(dm_config_parse("{\"pfs\": [{\"name\": \"ens1f0\", \"numVfs\": 8, \"mtu\": 9000, "
	                                 "\"eswitchMode\": \"switchdev\", \"vfGroups\": ["
	                                 "{\"vfRange\": \"0-1\", \"driver\": \"vfio-pci\"}, "
	                                 "{\"vfRange\": \"2-6\", \"driver\": \"default\", \"mtu\": 9000, \"trust\": \"on\", \"spoofchk\": \"off\"}, "
	                                 "{\"vfRange\": \"7\", \"mac\": \"02:00:00:00:00:07\"}]}, "
	                                 "{\"name\": \"ens1f1\", \"numVfs\": 0}, "
	                                 "{\"name\": \"ens2f0\", \"numVfs\": 2, \"linkUp\": false}, "
	                                 "{\"pciAddress\": \"af:00.1\", \"numVfs\": 4, \"externallyManaged\": true}]}",
	                                 &c, err, sizeof(err)),
	                 0);
	const dm_pf_spec *p = dm_config_pf(c, 0);
	assert_int_equal(p->mtu, 9000);
	assert_int_equal(p->link_up, 1); /* default with VFs */
	assert_int_equal(p->eswitch_mode, 1);
	assert_false(p->externally_managed);
	assert_int_equal(p->n_vf_groups, 3);
	assert_int_equal(p->vf_groups[0].first, 0);
	assert_int_equal(p->vf_groups[0].last, 1);
	assert_int_equal(p->vf_groups[0].driver, DM_VF_DRIVER_VFIO);
	assert_int_equal(p->vf_groups[0].trust, -1);
	assert_int_equal(p->vf_groups[1].driver, DM_VF_DRIVER_DEFAULT);
	assert_int_equal(p->vf_groups[1].mtu, 9000);
	assert_int_equal(p->vf_groups[1].trust, 1);
	assert_int_equal(p->vf_groups[1].spoofchk, 0);
	assert_int_equal(p->vf_groups[2].first, 7);
	assert_int_equal(p->vf_groups[2].last, 7);
	assert_int_equal(p->vf_groups[2].driver, DM_VF_DRIVER_ANY);
	assert_true(p->vf_groups[2].has_mac);
	assert_memory_equal(p->vf_groups[2].mac, "\x02\0\0\0\0\x07", 6);
	p = dm_config_pf(c, 1);
	assert_int_equal(p->link_up, 0); /* no VFs: the link is left alone */
	assert_int_equal(p->eswitch_mode, -1);
	assert_int_equal(p->mtu, 0);
	assert_int_equal(dm_config_pf(c, 2)->link_up, 0);
	p = dm_config_pf(c, 3);
	assert_true(p->externally_managed);
	assert_int_equal(p->link_up, 0);
	assert_string_equal(p->pci, "0000:af:00.1");
	dm_config_free(c);
}

/* Each bad configuration is refused, and the message names the culprit. */
static void test_config_bad(void **state)
{
	static const struct {
		const char *json, *needle;
		int err;
	} cases[] = {
		{ "{\"resourceList\": [], \"bogus\": 1}", "\"bogus\"", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {\"vendor\": [\"8086\"]}}]}", "\"vendor\"", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"pfNames\": [\"ens1f0#7-2\"]}]}]}", "ens1f0#7-2", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"pfNames\": [\"ens1f0#\"]}]}]}", "selectors[0].pfNames[0]", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"rootDevices\": [\"3b:00\"]}]}]}", "3b:00", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"pciAddresses\": [\"0000:3b:00.9\"]}]}]}", "0000:3b:00.9", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"vendors\": [\"80866\"]}]}]}", "80866", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"acpiIndexes\": [\"1\"]}]}]}", "acpiIndexes", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": [{\"isRdma\": true}]}]}", "isRdma", -EOPNOTSUPP },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"deviceType\": \"accelerator\", \"selectors\": {}}]}", "deviceType", -EOPNOTSUPP },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {}}, {\"resourceName\": \"a\", \"selectors\": {}}]}", "twice", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\"}]}", "selectors is missing", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a/b\", \"selectors\": {}}]}", "resourceName", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": []}]}", "empty", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"ens1f0\", \"pciAddress\": \"0000:3b:00.0\", \"numVfs\": 1}]}", "exactly one", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"ens1f0\", \"numVfs\": -1}]}", "numVfs", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"ens1f0\", \"numVfs\": 1.5}]}", "numVfs", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"ens1f0\"}]}", "numVfs is missing", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"../x\", \"numVfs\": 1}]}", "pfs[0].name", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"e\", \"numVfs\": 4, \"vfGroups\": [{\"vfRange\": \"0-3\"}, {\"vfRange\": \"1\"}]}]}",
		  "pfs[0].vfGroups[1].vfRange: overlaps vfGroups[0]", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"e\", \"numVfs\": 4, \"vfGroups\": [{\"vfRange\": \"4\"}]}]}", "beyond", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"e\", \"numVfs\": 4, \"mtu\": 65536}]}", "pfs[0].mtu", -EINVAL },
		{ "{\"resourceList\": [", "JSON", -EINVAL },
		{ "[]", "object", -EINVAL },
		/* found by fuzzing (fuzz_dm_config): a key given twice was parsed twice, leaking */
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {\"drivers\": [\"x\"], \"drivers\": [\"y\"]}}]}",
		  "selectors: \"drivers\" is given twice", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"resourceName\": \"b\", \"selectors\": {}}]}",
		  "\"resourceName\" is given twice", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"ens1f0\", \"name\": \"ens1f1\", \"numVfs\": 1}]}", "pfs[0]: \"name\" is given twice", -EINVAL },
		{ "{\"resourceList\": [], \"resourceList\": []}", "\"resourceList\" is given twice", -EINVAL },
		/* a pool name is a Kubernetes resource name: never "." or ".." */
		{ "{\"resourceList\": [{\"resourceName\": \"..\", \"selectors\": {}}]}", "resourceName", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"-a\", \"selectors\": {}}]}", "resourceName", -EINVAL },
		/* the two top-level lists: each entry named by its index */
		{ "{\"resourceList\": 3}", "resourceList: must be an array", -EINVAL },
		{ "{\"pfs\": {}}", "pfs: must be an array", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {}}, {\"resourceName\": \"b\", \"selectors\": {}}, "
		  "{\"resourceName\": \"a\", \"selectors\": {}}]}", "resourceList[2].resourceName: \"a\" is defined twice", -EINVAL },
		{ "{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\": {}}, 7]}", "resourceList[1]: must be an object", -EINVAL },
		{ "{\"pfs\": [{\"name\": \"ens1f0\", \"numVfs\": 1}, {\"name\": \"ens1f1\"}]}", "pfs[1]: numVfs is missing", -EINVAL },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		dm_config *c = (dm_config *)0x1;
		char err[256] = "";
		int r = dm_config_parse(cases[i].json, &c, err, sizeof(err));
		if (r != cases[i].err || !strstr(err, cases[i].needle))
			fail_msg("case %zu: got %d \"%s\", wanted %d naming %s", i, r, err, cases[i].err, cases[i].needle);
		assert_ptr_equal(c, (dm_config *)0x1); /* untouched on failure */
	}
}

/* Found by fuzzing (fuzz_dm_config): a short address in pciAddresses was normalized in
 * place into its shorter string (heap overflow); it must match the VF it names. */
static void test_config_short_pci(void **state)
{
	dm_config *c = NULL;
	char err[256] = "";
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"a\", \"selectors\":"
	                                 " {\"pciAddresses\": [\"3b:01.0\", \"AF:00.2\"]}}]}", &c, err, sizeof(err)), 0);
	dm_device vf;
	device_init(&vf, "0000:3b:01.0");
	vf.role = DM_ROLE_VF;
	assert_int_equal(dm_config_match(c, &vf), 0);
	device_init(&vf, "0000:af:00.2");
	vf.role = DM_ROLE_VF;
	assert_int_equal(dm_config_match(c, &vf), 0);
	device_init(&vf, "0000:3b:01.1");
	vf.role = DM_ROLE_VF;
	assert_int_equal(dm_config_match(c, &vf), -ENOENT);
	dm_config_free(c);
}

/* Found by fuzzing (fuzz_dm_record): numbers out of range were converted to integers
 * (undefined behaviour); an inode without its netns did not survive a rewrite; a data
 * blob of 1e999 became the text "null". Each parsed record writes back unchanged. */
static void test_record_parse(void **state)
{
	static const char *const bad[] = {
		"\"time\": -1", "\"time\": 1e300", "\"time\": 1.5", "\"time\": \"1\"",
		"\"time\": 8888888888888881", /* cJSON would write it back as 8888888888888880 */
		"\"time\": 1, \"netns\": \"/x\", \"netnsInode\": -1",
		"\"time\": 1, \"netns\": \"/x\", \"netnsInode\": 1e30",
		"\"time\": 1, \"pid\": -5", "\"time\": 1, \"pid\": 1e20",
		"\"time\": 1, \"netns\": \"relative\"", "\"time\": 1, \"ifname\": \"a/b\"",
		/* the cookie: a decimal string from 1 to 2^64-1 */
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": 42",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"0\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"042\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"-1\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"+1\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \" 1\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"0x10\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"18446744073709551616\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"99999999999999999999\"",
		"\"time\": 1, \"netns\": \"/x\", \"netnsCookie\": \"100000000000000000000\"",
		"\"time\": 1, \"netnsCookie\": [1]",
	};
	char text[512];
	dm_record *r = NULL, *again = NULL;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		snprintf(text, sizeof(text), "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1,"
		         " \"pciAddress\": \"0000:3b:01.0\", \"owner\": \"ctr\", %s}", bad[i]);
		r = (dm_record *)0x1;
		if (record_from_json("0000:3b:01.0", text, &r) != -EBADMSG)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_ptr_equal(r, (dm_record *)0x1);
	}
	assert_int_equal(record_from_json("0000:3b:01.0",
	                                  "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1, \"pciAddress\": \"0000:3b:01.0\","
	                                  " \"owner\": \"ctr\", \"time\": 1700000000, \"netnsInode\": 42, \"data\": 1e999}", &r), 0);
	assert_int_equal(r->netns_ino, 0); /* meaningless without a netns */
	assert_null(r->data);
	char *out = record_to_json(r);
	assert_non_null(out);
	assert_int_equal(record_from_json("0000:3b:01.0", out, &again), 0);
	assert_int_equal(again->time, 1700000000);
	assert_null(again->netns);
	free(out);
	dm_record_free(again);
	dm_record_free(r);
	/* the cookie: every digit kept (no double on the way), written back as it was read;
	 * without its netns it means nothing and is dropped */
	assert_int_equal(record_from_json("0000:3b:01.0",
	                                  "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1, \"pciAddress\": \"0000:3b:01.0\","
	                                  " \"owner\": \"ctr\", \"time\": 1, \"netns\": \"/x\", \"netnsInode\": 7,"
	                                  " \"netnsCookie\": \"18446744073709551615\"}", &r), 0);
	assert_true(r->netns_cookie == UINT64_MAX);
	out = record_to_json(r);
	assert_non_null(out);
	assert_non_null(strstr(out, "\"netnsCookie\":\"18446744073709551615\""));
	assert_int_equal(record_from_json("0000:3b:01.0", out, &again), 0);
	assert_true(again->netns_cookie == UINT64_MAX);
	free(out);
	dm_record_free(again);
	r->netns_cookie = 9007199254740993ULL; /* 2^53 + 1: a double would make it 2^53 */
	out = record_to_json(r);
	assert_int_equal(record_from_json("0000:3b:01.0", out, &again), 0);
	assert_true(again->netns_cookie == 9007199254740993ULL);
	free(out);
	dm_record_free(again);
	r->netns_cookie = 0; /* none: no key */
	out = record_to_json(r);
	assert_null(strstr(out, "netnsCookie"));
	free(out);
	dm_record_free(r);
	assert_int_equal(record_from_json("0000:3b:01.0",
	                                  "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1, \"pciAddress\": \"0000:3b:01.0\","
	                                  " \"owner\": \"ctr\", \"time\": 1, \"netnsCookie\": \"5\"}", &r), 0);
	assert_true(r->netns_cookie == 0);
	dm_record_free(r);
	/* the PCI address is copied as a string: a caller's short buffer is not overread */
	static const char pci[] = "0000:3b:01.0";
	assert_int_equal(record_from_json(pci, "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1,"
	                                  " \"pciAddress\": \"0000:3b:01.0\", \"owner\": \"c\", \"time\": 0}", &r), 0);
	assert_string_equal(r->pci, pci);
	dm_record_free(r);
}

/* The sysfs value parsers on what the kernel writes, and on what it never should. */
static void test_sysfs_parse(void **state)
{
	dm_device d;
	char buf[256], base[DM_PCI_ADDR_MAX + 8];
	device_init(&d, "0000:3b:01.0");
	snprintf(buf, sizeof(buf), "DRIVER=iavf\nPCI_CLASS=20000\nPCI_ID=8086:1889\nPCI_SLOT_NAME=0000:3b:01.0\n");
	assert_int_equal(uevent_parse(buf, &d), 0);
	assert_string_equal(d.driver, "iavf");
	assert_int_equal(d.class_code, 0x020000);
	assert_int_equal(d.vendor_id, 0x8086);
	assert_int_equal(d.device_id, 0x1889);
	device_init(&d, "0000:3b:01.0");
	snprintf(buf, sizeof(buf), "PCI_ID=8086:18899\nPCI_CLASS=1ffffffff\nDRIVER=%0100d", 7);
	assert_int_equal(uevent_parse(buf, &d), -ENOENT);
	assert_int_equal(d.class_code, 0);
	assert_int_equal(strlen(d.driver), DM_DRIVER_MAX - 1); /* truncated, terminated */
	assert_int_equal(link_target_base("../../../bus/pci/drivers/iavf", base, sizeof(base)), 0);
	assert_string_equal(base, "iavf");
	assert_int_equal(link_target_base("../0000:3b:00.0", base, sizeof(base)), 0);
	assert_string_equal(base, "0000:3b:00.0");
	assert_int_equal(link_target_base("../x/", base, sizeof(base)), 0);
	assert_string_equal(base, "");
	assert_int_equal(link_target_base("../averyveryverylongdevicename", base, sizeof(base)), -ENAMETOOLONG);
	int v = 99;
	assert_int_equal(parse_int("-1", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(parse_int("99999999999", &v), -EINVAL);
	assert_int_equal(parse_int("1 ", &v), -EINVAL);
	uint32_t x;
	assert_int_equal(parse_hex_u32("0x8086", &x), 0);
	assert_int_equal(x, 0x8086);
	assert_int_equal(parse_hex_u32("100000000", &x), -EINVAL);
	assert_int_equal(parse_hex_u32("", &x), -EINVAL);
}

/* ------------------------------------------------------------ matching */

static dm_device mkdev(const char *pci, dm_role role, uint16_t vendor, uint16_t device, const char *driver)
{
	dm_device d;
	memset(&d, 0, sizeof(d));
	str_copy(d.pci, sizeof(d.pci), pci);
	d.role = role;
	d.vendor_id = vendor;
	d.device_id = device;
	str_copy(d.driver, sizeof(d.driver), driver);
	d.vf_index = -1;
	d.numa_node = -1;
	return d;
}

static void set_vf(dm_device *vf, dm_device *pf, int index)
{
	vf->pf = pf;
	vf->vf_index = index;
	str_copy(vf->pf_pci, sizeof(vf->pf_pci), pf->pci);
	str_copy(vf->pf_netdev, sizeof(vf->pf_netdev), pf->netdev);
}

static void test_match(void **state)
{
	dm_config *c = NULL;
	assert_int_equal(dm_config_parse(good_config, &c, NULL, 0), 0);
	dm_device pf1 = mkdev("0000:3b:00.0", DM_ROLE_PF, 0x8086, 0x1593, "ice");
	strcpy(pf1.netdev, "ens1f0");
	strcpy(pf1.link_type, "ether");
	dm_device pf2 = mkdev("0000:af:00.0", DM_ROLE_PF, 0x15b3, 0x101d, "mlx5_core");
	strcpy(pf2.netdev, "ens2f0");
	strcpy(pf2.link_type, "ether");

	dm_device v = mkdev("0000:3b:01.0", DM_ROLE_VF, 0x8086, 0x1889, "iavf");
	set_vf(&v, &pf1, 0);
	assert_int_equal(dm_config_match(c, &v), 1);       /* pfNames ens1f0#0 */
	v.vf_index = 1;
	assert_int_equal(dm_config_match(c, &v), 2);       /* not in 0,2-3: falls to "rest" */
	v.vf_index = 3;
	assert_int_equal(dm_config_match(c, &v), 1);
	strcpy(v.driver, "vfio-pci");
	assert_int_equal(dm_config_match(c, &v), 0);       /* first resource wins */
	strcpy(v.driver, "iavf");

	dm_device m = mkdev("0000:af:00.2", DM_ROLE_VF, 0x15b3, 0x101e, "mlx5_core");
	set_vf(&m, &pf2, 1);
	assert_int_equal(dm_config_match(c, &m), 1);       /* rootDevices 0000:af:00.0#0-1 */
	m.vf_index = 2;
	assert_int_equal(dm_config_match(c, &m), 2);       /* linkTypes: no VF netdev, PF's ether */
	strcpy(pf2.link_type, "infiniband");
	assert_int_equal(dm_config_match(c, &m), -ENOENT);
	strcpy(m.link_type, "ether");                      /* the VF's own link type wins */
	assert_int_equal(dm_config_match(c, &m), 2);

	dm_device other = mkdev("0000:05:00.0", DM_ROLE_VF, 0x14e4, 0x16d7, "bnxt_en");
	set_vf(&other, &pf1, 9);
	assert_int_equal(dm_config_match(c, &other), -ENOENT);
	assert_int_equal(dm_config_match(c, &pf1), -ENODEV);

	/* an empty selector takes every VF */
	dm_config *all = NULL;
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"all\", \"selectors\": {}}]}", &all, NULL, 0), 0);
	assert_int_equal(dm_config_match(all, &other), 0);
	dm_config_free(all);
	dm_config_free(c);
}

/* ------------------------------------------------------------ fake sysfs */

static void test_pci_addr(void **state)
{
	char a[DM_PCI_ADDR_MAX];
	assert_int_equal(dm_pci_addr_normalize("0000:3B:01.0", a), 0);
	assert_string_equal(a, "0000:3b:01.0");
	assert_int_equal(dm_pci_addr_normalize("3b:01.0", a), 0);
	assert_string_equal(a, "0000:3b:01.0");
	static const char *const bad[] = { "", "0000:3b:01.8", "0000:3b:20.0", "0000:3b:01", "../../etc", "0000:3b/01.0",
	                                   "0000:3b:01.0/", "x000:3b:01.0" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(dm_pci_addr_normalize(bad[i], a), -EINVAL);
	/* the exact canonical form only */
	assert_true(pci_addr_valid("0000:3b:1f.7"));
	assert_true(pci_addr_valid("ffff:ff:00.0"));
	static const char *const not_canonical[] = { "0000:3B:01.0", "0000:3b:01.a", "0000:3b:01.0x", "0000:3b:01.",
	                                             "0000:3b:01", "0000:3b:g1.0", "0000-3b:01.0", "" };
	for (size_t i = 0; i < ELEMENTSOF(not_canonical); i++)
		assert_false(pci_addr_valid(not_canonical[i]));
}

static void test_lookup(void **state)
{
	dm_device d;
	assert_int_equal(dm_device_lookup(fixture, "0000:3b:01.6", &d), 0);
	assert_int_equal(d.role, DM_ROLE_VF);
	assert_string_equal(d.pf_pci, "0000:3b:00.0");
	assert_string_equal(d.pf_netdev, "ens1f0");
	assert_int_equal(d.vf_index, 6);
	assert_string_equal(d.driver, "vfio-pci");
	assert_true(d.userspace_driver);
	assert_true(d.iommu_group >= 0);
	assert_string_equal(d.netdev, "");
	assert_int_equal(d.numa_node, 0);
	assert_int_equal(d.vendor_id, 0x8086);
	assert_int_equal(d.device_id, 0x1889);
	assert_int_equal(d.health, 0);

	assert_int_equal(dm_device_lookup(fixture, "0000:3b:01.1", &d), 0);
	assert_string_equal(d.netdev, "ens1f0v1");
	assert_string_equal(d.driver, "iavf");
	assert_false(d.userspace_driver);

	assert_int_equal(dm_device_lookup(fixture, "0000:3b:11.0", &d), 0);
	assert_int_equal(d.health, DM_UNHEALTHY_PF_NO_LINK);
	assert_int_equal(dm_device_lookup(fixture, "0000:af:01.1", &d), 0);
	assert_true(d.health & DM_UNHEALTHY_NO_DRIVER);
	assert_int_equal(d.numa_node, 1);

	assert_int_equal(dm_device_lookup(fixture, "0000:af:00.0", &d), 0);
	assert_int_equal(d.role, DM_ROLE_PF);
	assert_int_equal(d.total_vfs, 16);
	assert_int_equal(d.num_vfs, 8);

	memset(&d, 0x5a, sizeof(d));
	dm_device copy = d;
	assert_int_equal(dm_device_lookup(fixture, "0000:99:00.0", &d), -ENOENT);
	assert_int_equal(dm_device_lookup(fixture, "0000:3b:01.1/..", &d), -EINVAL);
	assert_memory_equal(&d, &copy, sizeof(d));

	char pci[DM_PCI_ADDR_MAX];
	assert_int_equal(dm_netdev_to_pci(fixture, "ens2f0v3", pci), 0);
	assert_string_equal(pci, "0000:af:00.5");
	assert_int_equal(dm_netdev_to_pci(fixture, "nope0", pci), -ENOENT);
	assert_int_equal(dm_netdev_to_pci(fixture, "../x", pci), -EINVAL);
}

/* A PF's VFs as sysfs shows them (virtfn.c), on the fixture's ens1f0: VFs 0000:3b:01.0-7
 * (offset 8, stride 1) beside the PF, VFs 6 and 7 on vfio-pci. */
static void test_virtfn(void **state)
{
	char a[DM_PCI_ADDR_MAX], path[PATH_MAX];
	assert_true(vf_addr("0000:3b:00.0", 8, 1, 0, a));
	assert_string_equal(a, "0000:3b:01.0");
	assert_true(vf_addr("0000:3b:00.0", 8, 1, 7, a));
	assert_string_equal(a, "0000:3b:01.7");
	assert_true(vf_addr("0001:af:00.1", 0x7f, 2, 3, a)); /* routing id 0xaf01 + 0x7f + 6 */
	assert_string_equal(a, "0001:af:10.6");
	assert_false(vf_addr("0000:ff:1f.0", 7, 1, 1, a)); /* past the domain's last routing id */

	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:3b:00.0", fixture);
	int pffd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(pffd >= 0);
	int offset = 0, stride = 0, siblings = -2;
	assert_true(pf_vfs_placed(pffd, "0000:3b:00.0", 8, &offset, &stride, &siblings));
	assert_int_equal(offset, 8);
	assert_int_equal(stride, 1);
	assert_int_equal(siblings, 1);
	assert_false(pf_vfs_placed(pffd, "0000:3b:00.0", 9, &offset, &stride, &siblings)); /* no virtfn8 */

	dm_device pf, d;
	assert_int_equal(dm_device_lookup(fixture, "0000:3b:00.0", &pf), 0);
	pf.vf_device_id = 0;
	pf_read_vf_device(pffd, &pf);
	assert_int_equal(pf.vf_device_id, 0x1889);

	vf_link *v = NULL;
	size_t n = 0;
	assert_int_equal(pf_list_virtfns(pffd, &v, &n), 0);
	assert_int_equal(n, 8);
	bool seen[8] = { false };
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].index >= 0 && v[i].index < 8);
		assert_true(vf_addr("0000:3b:00.0", 8, 1, v[i].index, a));
		assert_string_equal(v[i].vf, a);
		seen[v[i].index] = true;
	}
	for (size_t i = 0; i < 8; i++)
		assert_true(seen[i]);
	free(v);
	close(pffd);

	/* the cheap view of a VF: ids from the PF, its own driver link, its IOMMU group */
	snprintf(path, sizeof(path), "%s/bus/pci/devices", fixture);
	int busfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(busfd >= 0);
	vf_read_from_pf(busfd, "0000:3b:01.6", &pf, NULL, &d);
	assert_int_equal(d.role, DM_ROLE_VF);
	assert_int_equal(d.vendor_id, 0x8086);
	assert_int_equal(d.device_id, 0x1889);
	assert_string_equal(d.pf_pci, "0000:3b:00.0");
	assert_string_equal(d.driver, "vfio-pci");
	assert_true(d.userspace_driver);
	assert_string_equal(d.vfio_path, "/dev/vfio/9");
	/* a driver the caller knows is not read again */
	vf_read_from_pf(busfd, "0000:3b:01.0", &pf, "iavf", &d);
	assert_string_equal(d.driver, "iavf");
	assert_false(d.userspace_driver);
	assert_int_equal(d.iommu_group, -1);
	close(busfd);
}

static void test_inventory(void **state)
{
	dm_inventory *inv = NULL;
	assert_int_equal(dm_inventory_load(fixture, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, &inv), 0);
	/* 1 plain NIC + 4 PFs + 8 + 4 + 8 VFs; the host bridge is not a network function */
	assert_int_equal(dm_inventory_count(inv), 25);
	const dm_device *pf = dm_inventory_find(inv, "ens1f0");
	assert_non_null(pf);
	assert_int_equal(pf->role, DM_ROLE_PF);
	assert_int_equal(pf->n_vfs, 8);
	assert_string_equal(pf->vfs[7]->pci, "0000:3b:01.7");
	assert_ptr_equal(pf->vfs[7]->pf, pf);
	assert_string_equal(pf->vendor_name, "Intel Corporation");
	assert_non_null(strstr(pf->device_name, "E810"));
	assert_string_equal(pf->mac, "3c:fd:fe:00:3b:00");
	const dm_device *vf = dm_inventory_find(inv, "0000:AF:00.3");
	assert_non_null(vf);
	assert_string_equal(vf->netdev, "ens2f0v1");
	assert_int_equal(vf->vf_index, 1);
	assert_int_equal(vf->numa_node, 1);
	assert_string_equal(vf->link_type, "ether");
	assert_null(dm_inventory_find(inv, "0000:00:00.0"));
	assert_null(dm_inventory_find(inv, "missing0"));
	/* sorted by address */
	for (size_t i = 1; i < dm_inventory_count(inv); i++)
		assert_true(strcmp(dm_inventory_get(inv, i - 1)->pci, dm_inventory_get(inv, i)->pci) < 0);
	dm_inventory_free(inv);

	dm_inventory *x = (dm_inventory *)0x1;
	assert_int_equal(dm_inventory_load("/nonexistent-root", 0, &x), -ENOENT);
	assert_ptr_equal(x, (dm_inventory *)0x1);
}

/* The details of one device and of its VFs: as the full view has them; the others cheap. */
static void test_inventory_details_of(void **state)
{
	dm_inventory *full = NULL, *one = NULL;
	assert_int_equal(dm_inventory_load(fixture, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, &full), 0);
	assert_int_equal(inventory_load_of(fixture, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, "0000:af:00.0", &one), 0);
	assert_int_equal(dm_inventory_count(one), dm_inventory_count(full));
	const dm_device *pf = dm_inventory_find(one, "0000:af:00.0");
	assert_non_null(pf);
	assert_int_equal(pf->n_vfs, 8);
	for (size_t i = 0; i < pf->n_vfs; i++) {
		const dm_device *a = pf->vfs[i], *b = dm_inventory_find(full, pf->vfs[i]->pci);
		assert_non_null(b);
		assert_string_equal(a->mac, b->mac);
		assert_string_equal(a->operstate, b->operstate);
		assert_string_equal(a->link_type, b->link_type);
		assert_int_equal(a->carrier, b->carrier);
		assert_int_equal(a->iommu_group, b->iommu_group);
		assert_int_equal(a->numa_node, b->numa_node);
		assert_int_equal(a->health, b->health);
		assert_ptr_equal(a->device_name, pf->vfs[0]->device_name);
	}
	assert_string_equal(dm_inventory_find(one, "0000:af:00.3")->mac, dm_inventory_find(full, "0000:af:00.3")->mac);
	/* a VF of another PF: the cheap view (no netdev details) */
	const dm_device *other = dm_inventory_find(one, "0000:3b:01.0");
	assert_non_null(other);
	assert_string_equal(other->mac, "");
	assert_string_not_equal(dm_inventory_find(full, "0000:3b:01.0")->mac, "");
	dm_inventory_free(one);
	dm_inventory_free(full);
}

/* pci.ids read as libpci reads it, only the vendors asked for; what it lacks from libpci. */
static void test_pci_ids_names(void **state)
{
	char path[PATH_MAX], vn[LIBPCI_NAME_MAX], dn[LIBPCI_NAME_MAX], longname[301];
	struct pci_access *pacc;
	memset(longname, 'n', 300);
	longname[300] = 0;
	snprintf(path, sizeof(path), "%s/pci.ids", fx_workdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# a comment\n\n"
	           "f00d  Food Vendor \n"                 /* one trailing blank: dropped */
	           "\t0001  First Device\r\n"            /* CRLF */
	           "\t\tf00d 0001  A subsystem\n"
	           "# inside the block\n"
	           "\n"
	           "\tBEEF  Upper-case id\n"
	           "\t0002 \t Blanks before the name\n"
	           "\t0003  %s\n"
	           "f00e  Next Vendor\n"
	           "\t0009  Only under the next vendor\n"
	           "C 02  Network controller\n"
	           "\t00  Ethernet controller\n", longname);
	fclose(f);
	assert_int_equal(libpci_open(fixture, &pacc), 0);
	pacc->id_file_name = path; /* libpci is not linked: its field, not its setter */
	pacc->free_id_name = 0;
	libpci_ids ids = { 0 };
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0x0001, vn, dn), LIBPCI_HAVE_VENDOR | LIBPCI_HAVE_DEVICE);
	assert_string_equal(vn, "Food Vendor");
	assert_string_equal(dn, "First Device");
	assert_true(ids.tried);
	assert_non_null(ids.text);
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0xbeef, vn, dn), LIBPCI_HAVE_VENDOR | LIBPCI_HAVE_DEVICE);
	assert_string_equal(dn, "Upper-case id");
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0x0002, vn, dn), LIBPCI_HAVE_VENDOR | LIBPCI_HAVE_DEVICE);
	assert_string_equal(dn, "Blanks before the name");
	/* too long for the buffer: cut, "..." at the end, as libpci does */
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0x0003, vn, dn), LIBPCI_HAVE_VENDOR | LIBPCI_HAVE_DEVICE);
	assert_int_equal(strlen(dn), LIBPCI_NAME_MAX - 1);
	assert_string_equal(dn + LIBPCI_NAME_MAX - 4, "...");
	assert_int_equal(libpci_names(pacc, &ids, 0xf00e, 0x0009, vn, dn), LIBPCI_HAVE_VENDOR | LIBPCI_HAVE_DEVICE);
	assert_string_equal(vn, "Next Vendor");
	/* a device of the next vendor is not this one's; neither list names it (libpci
	 * then reads the same file) */
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0x0009, vn, dn), LIBPCI_HAVE_VENDOR);
	assert_int_equal(libpci_names(pacc, &ids, 0xf00f, 0x0001, vn, dn), 0);
	/* a subsystem line is no device */
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0xf00d, vn, dn), LIBPCI_HAVE_VENDOR);
	libpci_ids_free(&ids);
	assert_null(ids.text);
	libpci_close(pacc);

	/* a list that cannot be read here: all from libpci (which finds nothing either) */
	assert_int_equal(libpci_open(fixture, &pacc), 0);
	snprintf(path, sizeof(path), "%s/no-such.ids", fx_workdir);
	pacc->id_file_name = path; /* libpci is not linked: its field, not its setter */
	pacc->free_id_name = 0;
	assert_int_equal(libpci_names(pacc, &ids, 0xf00d, 0x0001, vn, dn), 0);
	assert_true(ids.tried);
	assert_null(ids.text);
	libpci_ids_free(&ids);
	libpci_close(pacc);
}

/* What every view of a device agrees on. */
static void assert_same_device(const dm_device *x, const dm_device *y)
{
	assert_string_equal(x->pci, y->pci);
	assert_int_equal(x->role, y->role);
	assert_int_equal(x->vendor_id, y->vendor_id);
	assert_int_equal(x->device_id, y->device_id);
	assert_int_equal(x->class_code, y->class_code);
	assert_string_equal(x->driver, y->driver);
	assert_int_equal(x->userspace_driver, y->userspace_driver);
	assert_string_equal(x->netdev, y->netdev);
	assert_int_equal(x->numa_node, y->numa_node);
	assert_int_equal(x->vf_index, y->vf_index);
	assert_string_equal(x->pf_pci, y->pf_pci);
	assert_string_equal(x->pf_netdev, y->pf_netdev);
	assert_int_equal(x->health, y->health);
	assert_string_equal(x->vfio_path, y->vfio_path);
}

static void assert_same_view(const dm_inventory *a, const dm_inventory *b)
{
	assert_int_equal(dm_inventory_count(a), dm_inventory_count(b));
	for (size_t i = 0; i < dm_inventory_count(a); i++) {
		const dm_device *x = dm_inventory_get(a, i), *y = dm_inventory_get(b, i);
		assert_same_device(x, y);
		if (x->role == DM_ROLE_VF) {
			/* linked to the same PF, at the same index */
			assert_int_equal(x->pf != NULL, y->pf != NULL);
			if (x->pf)
				assert_string_equal(x->pf->pci, y->pf->pci);
		}
		if (x->role == DM_ROLE_PF) {
			assert_int_equal(x->n_vfs, y->n_vfs);
			for (size_t j = 0; j < x->n_vfs; j++) {
				assert_int_equal(x->vfs[j] != NULL, y->vfs[j] != NULL);
				if (x->vfs[j])
					assert_string_equal(x->vfs[j]->pci, y->vfs[j]->pci);
			}
		}
	}
}

/* The cheap view (VFs from their PF) and the detailed one (every file read) agree on what
 * they share, and so does the fallback without class/net. */
/* dm_vf_lookup: what dm_device_lookup says of every healthy VF of the fixture, in its
 * own fields; -EAGAIN (output untouched) where the full lookup is needed to say what is
 * wrong: an unbound VF, a PF, a plain NIC, a missing address. */
static void test_vf_lookup(void **state)
{
	dm_inventory *inv = NULL;
	dm_device v, d;
	int healthy = 0;
	assert_int_equal(dm_inventory_load(fixture, 0, &inv), 0);
	for (size_t i = 0; i < dm_inventory_count(inv); i++) {
		const dm_device *x = dm_inventory_get(inv, i);
		int r = dm_vf_lookup(fixture, x->pci, &v);
		assert_int_equal(dm_device_lookup(fixture, x->pci, &d), 0);
		if (d.role != DM_ROLE_VF || !d.driver[0] || d.vf_index < 0) {
			assert_int_equal(r, -EAGAIN);
			continue;
		}
		assert_int_equal(r, 0);
		healthy++;
		assert_string_equal(v.pci, d.pci);
		assert_int_equal(v.role, DM_ROLE_VF);
		assert_string_equal(v.pf_pci, d.pf_pci);
		assert_string_equal(v.pf_netdev, d.pf_netdev);
		assert_string_equal(v.driver, d.driver);
		assert_int_equal(v.userspace_driver, d.userspace_driver);
		assert_string_equal(v.netdev, d.netdev);
		assert_int_equal(v.vf_index, d.vf_index);
		assert_int_equal(v.numa_node, -1); /* not read */
	}
	dm_inventory_free(inv);
	assert_true(healthy >= 10);
	memset(&v, 0x5a, sizeof(v));
	dm_device copy = v;
	assert_int_equal(dm_vf_lookup(fixture, "0000:af:01.1", &v), -EAGAIN); /* unbound VF */
	assert_int_equal(dm_vf_lookup(fixture, "0000:af:00.0", &v), -EAGAIN); /* a PF */
	assert_int_equal(dm_vf_lookup(fixture, "0000:99:00.0", &v), -EAGAIN);
	assert_int_equal(dm_vf_lookup(fixture, "0000:AF:00.2", &v), -EINVAL); /* not canonical */
	assert_int_equal(dm_vf_lookup(fixture, "0000:3b:01.1/..", &v), -EINVAL);
	assert_memory_equal(&v, &copy, sizeof(v));
}

static void test_inventory_views(void **state)
{
	char root[PATH_MAX];
	dm_inventory *full = NULL, *cheap = NULL, *nomap = NULL;
	snprintf(root, sizeof(root), "%s/views", fx_workdir);
	assert_int_equal(fx_tree(root, ""), 0);
	assert_int_equal(dm_inventory_load(root, DM_INVENTORY_DETAILS, &full), 0);
	assert_int_equal(dm_inventory_load(root, 0, &cheap), 0);
	assert_same_view(full, cheap);
	fx_sh_ok("rm -rf '%s/class/net'", root);
	assert_int_equal(dm_inventory_load(root, 0, &nomap), 0);
	assert_same_view(full, nomap);
	dm_inventory_free(full);
	dm_inventory_free(cheap);
	dm_inventory_free(nomap);
}

/* A tree with 64 VFs or more (the cheap view then lists the drivers' directories instead
 * of reading each VF's driver link): the views agree with each other and with each VF's
 * own files, an unbound VF included, also where a PF's sriov_offset/sriov_stride is
 * missing or wrong (the scan then reads every virtfn link). */
static void test_inventory_views_many(void **state)
{
	char root[PATH_MAX];
	dm_inventory *full = NULL, *cheap = NULL;
	snprintf(root, sizeof(root), "%s/views-many", fx_workdir);
	assert_int_equal(fx_tree(root, "--pfs 2 --vfs 40"), 0);
	/* unbind VF 5 of each PF the way the kernel does: both links go (the first PF's VFs
	 * are read before 64 VFs are known, the second's through the listings) */
	fx_sh_ok("rm '%s/devices/pci0000:00/0000:11:00.5/driver' '%s/bus/pci/drivers/iavf/0000:11:00.5' && "
	   "sed -i /^DRIVER=/d '%s/devices/pci0000:00/0000:11:00.5/uevent'", root, root, root);
	fx_sh_ok("rm '%s/devices/pci0000:00/0000:15:00.5/driver' '%s/bus/pci/drivers/mlx5_core/0000:15:00.5' && "
	   "sed -i /^DRIVER=/d '%s/devices/pci0000:00/0000:15:00.5/uevent'", root, root, root);
	fx_sh_ok("echo 7 > '%s/devices/pci0000:00/0000:10:00.0/sriov_stride'", root);
	fx_sh_ok("rm '%s/devices/pci0000:00/0000:14:00.0/sriov_offset'", root);
	assert_int_equal(dm_inventory_load(root, DM_INVENTORY_DETAILS, &full), 0);
	assert_int_equal(dm_inventory_load(root, 0, &cheap), 0);
	assert_int_equal(dm_inventory_count(cheap), 2 + 2 * 40);
	assert_same_view(full, cheap);
	const dm_device *vf = dm_inventory_find(cheap, "0000:11:00.5");
	assert_non_null(vf);
	assert_string_equal(vf->driver, "");
	assert_int_equal(vf->health, DM_UNHEALTHY_NO_DRIVER);
	vf = dm_inventory_find(cheap, "0000:15:00.5");
	assert_non_null(vf);
	assert_string_equal(vf->driver, "");
	assert_int_equal(vf->health, DM_UNHEALTHY_NO_DRIVER);
	vf = dm_inventory_find(cheap, "0000:15:04.1");
	assert_non_null(vf);
	assert_string_equal(vf->driver, "mlx5_core");
	assert_int_equal(vf->vf_index, 33);
	/* every PF's VFs are what its virtfn links say, whichever way the scan found them */
	size_t pfs = 0;
	for (size_t i = 0; i < dm_inventory_count(cheap); i++) {
		const dm_device *pf = dm_inventory_get(cheap, i);
		if (pf->role != DM_ROLE_PF)
			continue;
		pfs++;
		assert_int_equal(pf->n_vfs, 40);
		for (size_t j = 0; j < pf->n_vfs; j++) {
			char link[PATH_MAX], target[PATH_MAX];
			snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/virtfn%zu", root, pf->pci, j);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			assert_true(n > 0);
			target[n] = 0;
			assert_non_null(pf->vfs[j]);
			assert_string_equal(strrchr(target, '/') + 1, pf->vfs[j]->pci);
			assert_int_equal(pf->vfs[j]->vf_index, (int)j);
			assert_ptr_equal(pf->vfs[j]->pf, pf);
		}
	}
	assert_int_equal(pfs, 2);
	/* and each VF is what its own files say (dm_device_lookup reads uevent and physfn) */
	for (size_t i = 0; i < dm_inventory_count(cheap); i++) {
		const dm_device *d = dm_inventory_get(cheap, i);
		dm_device one;
		assert_int_equal(dm_device_lookup(root, d->pci, &one), 0);
		assert_same_device(d, &one);
	}
	dm_inventory_free(full);
	dm_inventory_free(cheap);
}

static void test_set_num_vfs(void **state)
{
	char root[PATH_MAX], path[PATH_MAX], buf[32];
	snprintf(root, sizeof(root), "%s/numvfs", fx_workdir);
	assert_int_equal(fx_tree(root, ""), 0);
	assert_int_equal(dm_pf_set_num_vfs(root, "0000:3b:00.0", 65), -ERANGE);
	assert_int_equal(dm_pf_set_num_vfs(root, "0000:3b:01.0", 1), -ENODEV);
	assert_int_equal(dm_pf_set_num_vfs(root, "0000:00:19.0", 1), -ENODEV);
	assert_int_equal(dm_pf_set_num_vfs(root, "0000:77:00.0", 1), -ENOENT);
	assert_int_equal(dm_pf_set_num_vfs(root, "0000:3b:00.0", 8), 0);
	assert_int_equal(dm_pf_set_num_vfs(root, "0000:3b:00.0", 16), 1);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:3b:00.0", root);
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_true(read_small_at(fd, "sriov_numvfs", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "16");
	close(fd);
}

/* ------------------------------------------------------------ the store */

static char *store_dir(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", fx_workdir, name);
	return p;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void test_store_basic(void **state)
{
	dm_store *s = NULL;
	dm_record *r = NULL;
	char ns[PATH_MAX];
	const char *dir = store_dir("basic");
	struct stat st;

	assert_int_equal(dm_store_open(dir, &s), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	snprintf(ns, sizeof(ns), "%s/netns-a", fx_workdir);
	touch(ns);
	dm_owner a = { "ctr-a", "net1", ns }, b = { "ctr-b", "net1", NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", "p", &a, &r), DM_CLAIM_NEW);
	assert_string_equal(r->owner, "ctr-a");
	assert_string_equal(r->netns, ns);
	dm_record_free(r);
	char rec[PATH_MAX];
	snprintf(rec, sizeof(rec), "%s/vfs/0000:3b:01.0.json", dir);
	assert_int_equal(stat(rec, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* the same attachment again: the same VF; another owner: busy */
	r = NULL;
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", "p", &a, &r), DM_CLAIM_EXISTING);
	dm_record_free(r);
	r = (dm_record *)0x1;
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", "p", &b, &r), -EBUSY);
	assert_ptr_equal(r, (dm_record *)0x1);

	/* data blob: only the owner may set it; it survives reading back */
	assert_int_equal(dm_store_set_data(s, "0000:3b:01.0", "ctr-b", "{}"), -EBUSY);
	assert_int_equal(dm_store_set_data(s, "0000:3b:01.0", "ctr-a", "{\"mac\": \"02:00:00:00:00:01\", \"vlan\": 5}"), 0);
	assert_int_equal(dm_store_set_data(s, "0000:3b:01.0", "ctr-a", "{broken"), -EINVAL);
	assert_int_equal(dm_store_set_data(s, "0000:3b:01.1", "ctr-a", "{}"), -ENOENT);
	assert_int_equal(dm_store_get(s, "0000:3b:01.0", &r), 0);
	assert_string_equal(r->data, "{\"mac\":\"02:00:00:00:00:01\",\"vlan\":5}");
	assert_false(dm_record_is_stale(r));
	dm_record_free(r);

	/* release: wrong owner refused, right owner works, twice is ENOENT */
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", "ctr-b", NULL), -EBUSY);
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", "ctr-a", "net2"), -EBUSY);
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", "ctr-a", "net1"), 0);
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", "ctr-a", NULL), -ENOENT);
	r = (dm_record *)0x1;
	assert_int_equal(dm_store_get(s, "0000:3b:01.0", &r), -ENOENT);
	assert_ptr_equal(r, (dm_record *)0x1);

	/* release by owner */
	assert_int_equal(dm_store_claim(s, "0000:3b:01.2", NULL, &b, NULL), DM_CLAIM_NEW);
	dm_owner b2 = { "ctr-b", "net2", NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.3", NULL, &b2, NULL), DM_CLAIM_NEW);
	assert_int_equal(dm_store_claim(s, "0000:3b:01.4", NULL, &a, NULL), DM_CLAIM_NEW);
	size_t n = 99;
	assert_int_equal(dm_store_release_owner(s, "ctr-b", "net2", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dm_store_release_owner(s, "ctr-b", NULL, &n), 0);
	assert_int_equal(n, 1);
	dm_record **list = NULL;
	int *errs = NULL;
	assert_int_equal(dm_store_list(s, &list, &errs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->pci, "0000:3b:01.4");
	assert_int_equal(errs[0], 0);
	dm_record_list_free(list, n);
	free(errs);
	assert_int_equal(dm_store_release(s, "0000:3b:01.4", NULL, NULL), 0);

	/* a claim whose netns does not exist is refused */
	dm_owner gone = { "ctr-c", "net1", "/nonexistent/netns" };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.5", NULL, &gone, NULL), -ENOENT);
	dm_store_free(s);
}

static void test_store_names(void **state)
{
	dm_store *s = NULL;
	assert_int_equal(dm_store_open(store_dir("names"), &s), 0);
	dm_owner ok = { "ctr", "net1", NULL };
	static const char *const bad_pci[] = { "../0000:3b:01.0", "0000:3b:01.0/x", "store.lock", "" };
	for (size_t i = 0; i < ELEMENTSOF(bad_pci); i++) {
		assert_int_equal(dm_store_claim(s, bad_pci[i], NULL, &ok, NULL), -EINVAL);
		assert_int_equal(dm_store_release(s, bad_pci[i], NULL, NULL), -EINVAL);
		assert_int_equal(dm_store_lock_vf(s, bad_pci[i], false), -EINVAL);
	}
	static const char *const bad_owner[] = { "", "..", "a/b", "-x", "a b", "a\nb", "ctr\x01" };
	for (size_t i = 0; i < ELEMENTSOF(bad_owner); i++) {
		dm_owner o = { bad_owner[i], "net1", NULL };
		assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &o, NULL), -EINVAL);
	}
	char longid[300];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	dm_owner lo = { longid, NULL, NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &lo, NULL), -EINVAL);
	static const char *const bad_if[] = { "", "a/b", "..", "averyveryverylongname", "a b", "a:b" };
	for (size_t i = 0; i < ELEMENTSOF(bad_if); i++) {
		dm_owner o = { "ctr", bad_if[i], NULL };
		assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &o, NULL), -EINVAL);
	}
	dm_owner rel = { "ctr", NULL, "relative/netns" }, ctl = { "ctr", NULL, "/run/netns/a\nb" };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &rel, NULL), -EINVAL);
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &ctl, NULL), -EINVAL);
	dm_store_free(s);
}

static void test_store_stale(void **state)
{
	dm_store *s = NULL;
	dm_record *r = NULL;
	char ns[PATH_MAX];
	assert_int_equal(dm_store_open(store_dir("stale"), &s), 0);
	snprintf(ns, sizeof(ns), "%s/netns-stale", fx_workdir);
	touch(ns);
	dm_owner a = { "old", "net1", ns }, b = { "new", "net1", NULL };
	assert_int_equal(dm_store_claim(s, "0000:af:00.2", "p", &a, NULL), DM_CLAIM_NEW);
	assert_int_equal(dm_store_set_data(s, "0000:af:00.2", "old", "{\"saved\": true}"), 0);
	assert_int_equal(dm_store_claim(s, "0000:af:00.2", "p", &b, NULL), -EBUSY);

	/* the netns path now names another file: stale */
	assert_int_equal(unlink(ns), 0);
	touch(ns);
	struct stat st;
	stat(ns, &st);
	assert_int_equal(dm_store_get(s, "0000:af:00.2", &r), 0);
	if (r->netns_ino != (uint64_t)st.st_ino)
		assert_true(dm_record_is_stale(r));
	dm_record_free(r);
	/* gone entirely: stale, and reclaimable */
	unlink(ns);
	assert_int_equal(dm_store_claim(s, "0000:af:00.2", "p", &b, &r), DM_CLAIM_RECLAIMED);
	assert_string_equal(r->owner, "new");
	assert_null(r->data); /* the old owner's blob does not leak to the new owner */
	dm_record_free(r);

	/* gc releases stale records only */
	touch(ns);
	dm_owner c = { "gc-me", NULL, ns };
	assert_int_equal(dm_store_claim(s, "0000:af:00.3", NULL, &c, NULL), DM_CLAIM_NEW);
	size_t rel = 9, cor = 9;
	assert_int_equal(dm_store_gc(s, &rel, &cor), 0);
	assert_int_equal(rel, 0);
	unlink(ns);
	assert_int_equal(dm_store_gc(s, &rel, &cor), 0);
	assert_int_equal(rel, 1);
	assert_int_equal(cor, 0);
	assert_int_equal(dm_store_get(s, "0000:af:00.3", &r), -ENOENT);
	assert_int_equal(dm_store_get(s, "0000:af:00.2", &r), 0); /* no netns: never stale */
	dm_record_free(r);
	dm_store_free(s);
}

static void write_text(const char *path, const char *text);

/* The kernel's cookie of the calling thread's netns; 0 on a kernel without one. */
static uint64_t own_cookie(void)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);
	int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sock >= 0);
	if (getsockopt(sock, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &c, &len) < 0) {
		assert_int_equal(errno, ENOPROTOOPT);
		c = 0;
	}
	close(sock);
	return c;
}

static uint64_t ino_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

/* A record whose netns path names a namespace with the record's inode number but another
 * cookie (what a later namespace given the same inode number looks like) is stale; with
 * the same cookie it is live; without a cookie the inode decides, as before. */
static void test_store_cookie(void **state)
{
	dm_store *s = NULL;
	dm_record *r = NULL;
	const char *self = "/proc/self/ns/net";
	uint64_t mine = own_cookie(), ino = ino_of(self), got_ino = 0, got = 0;
	if (!mine) {
		print_message("no SO_NETNS_COOKIE on this kernel: the inode rule only\n");
		return;
	}
	assert_int_equal(netns_path_cookie(self, 0, &got_ino, &got), 0);
	assert_true(got == mine && got_ino == ino);
	assert_int_equal(netns_path_cookie(self, ino + 1, &got_ino, &got), -ESTALE);
	assert_int_equal(netns_path_cookie("/proc/self/ns/uts", 0, NULL, &got), -ENOTTY);
	assert_int_equal(netns_path_cookie("/nonexistent/netns", 0, NULL, &got), -ENOENT);

	/* a claim records the cookie of the namespace at the path */
	assert_int_equal(dm_store_open(store_dir("cookie"), &s), 0);
	dm_owner a = { "ctr-a", "net1", self }, b = { "ctr-b", "net1", NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:02.0", NULL, &a, NULL), DM_CLAIM_NEW);
	assert_int_equal(dm_store_get(s, "0000:3b:02.0", &r), 0);
	assert_true(r->netns_ino == ino && r->netns_cookie == mine);
	assert_false(dm_record_is_stale(r));
	r->netns_cookie = mine + 1;     /* a recycled inode: another namespace */
	assert_true(dm_record_is_stale(r));
	r->netns_cookie = 0;            /* a record written before cookies: inode rule */
	assert_false(dm_record_is_stale(r));
	r->netns_ino = ino + 1;
	assert_true(dm_record_is_stale(r));
	dm_record_free(r);
	assert_int_equal(dm_store_claim(s, "0000:3b:02.0", NULL, &b, NULL), -EBUSY);

	/* the same through the store: a record on disk whose cookie differs is reclaimed */
	char path[PATH_MAX], text[512];
	snprintf(path, sizeof(path), "%s/vfs/0000:3b:02.0.json", store_dir("cookie"));
	snprintf(text, sizeof(text), "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1,"
	         " \"pciAddress\": \"0000:3b:02.0\", \"owner\": \"ctr-a\", \"ifname\": \"net1\", \"time\": 1,"
	         " \"netns\": \"%s\", \"netnsInode\": %" PRIu64 ", \"netnsCookie\": \"%" PRIu64 "\"}\n",
	         self, ino, mine + 1);
	write_text(path, text);
	assert_int_equal(dm_store_claim(s, "0000:3b:02.0", NULL, &b, &r), DM_CLAIM_RECLAIMED);
	assert_string_equal(r->owner, "ctr-b");
	dm_record_free(r);
	assert_int_equal(dm_store_release(s, "0000:3b:02.0", NULL, NULL), 0);

	/* another namespace than the caller's: entered for a moment, and left */
	if (geteuid() == 0) {
		int p[2];
		char ns[64], c;
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			if (unshare(CLONE_NEWNET) < 0)
				_exit(1);
			(void)!write(p[1], "x", 1);
			pause();
			_exit(0);
		}
		close(p[1]);
		assert_int_equal(read(p[0], &c, 1), 1);
		close(p[0]);
		snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)pid);
		uint64_t before = ino_of("/proc/thread-self/ns/net");
		dm_owner o = { "ctr-o", "net1", ns };
		assert_int_equal(dm_store_claim(s, "0000:3b:02.1", NULL, &o, &r), DM_CLAIM_NEW);
		assert_true(r->netns_ino == ino_of(ns) && r->netns_cookie && r->netns_cookie != mine);
		assert_false(dm_record_is_stale(r));
		r->netns_cookie++;
		assert_true(dm_record_is_stale(r));
		assert_true(ino_of("/proc/thread-self/ns/net") == before);
		assert_true(own_cookie() == mine);
		dm_record_free(r);
		assert_int_equal(dm_store_claim(s, "0000:3b:02.1", NULL, &b, NULL), -EBUSY);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		assert_int_equal(dm_store_claim(s, "0000:3b:02.1", NULL, &b, NULL), DM_CLAIM_RECLAIMED);
	}
	dm_store_free(s);
}

/* A pool claim passes over busy VFs on their netns path and inode; a holder that is a
 * later namespace with the old inode number (another cookie) is reclaimed when the pool
 * has no other VF, and a free VF is taken before it. */
static void test_pool_cookie(void **state)
{
	dm_inventory *inv = NULL;
	dm_config *c = NULL;
	dm_store *s = NULL;
	dm_record *r = NULL;
	const char *self = "/proc/self/ns/net";
	char got[7][DM_PCI_ADDR_MAX], path[PATH_MAX];
	if (!own_cookie())
		return;
	assert_int_equal(dm_inventory_load(fixture, 0, &inv), 0);
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"mlx\", \"selectors\": {\"vendors\": [\"15b3\"]}}]}",
	                                 &c, NULL, 0), 0);
	assert_int_equal(dm_store_open(store_dir("poolcookie"), &s), 0);
	for (int i = 0; i < 7; i++) {
		char id[16];
		snprintf(id, sizeof(id), "c%d", i);
		dm_owner o = { id, "net1", self };
		assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &o, -1, &r), DM_CLAIM_NEW);
		assert_true(r->netns_cookie == own_cookie());
		strcpy(got[i], r->pci);
		dm_record_free(r);
	}
	/* c2's netns: a later namespace with the inode number of the first */
	assert_int_equal(dm_store_get(s, got[2], &r), 0);
	r->netns_cookie++;
	char *text = record_to_json(r);
	assert_non_null(text);
	snprintf(path, sizeof(path), "%s/vfs/%s.json", store_dir("poolcookie"), got[2]);
	write_text(path, text);
	free(text);
	dm_record_free(r);
	assert_int_equal(dm_store_release(s, got[5], "c5", NULL), 0);
	dm_owner n1 = { "n1", "net1", self }, n2 = { "n2", "net1", self }, n3 = { "n3", "net1", self };
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &n1, -1, &r), DM_CLAIM_NEW);
	assert_string_equal(r->pci, got[5]);
	dm_record_free(r);
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &n2, -1, &r), DM_CLAIM_RECLAIMED);
	assert_string_equal(r->pci, got[2]);
	dm_record_free(r);
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &n3, -1, &r), -ENOSPC);
	dm_store_free(s);
	dm_config_free(c);
	dm_inventory_free(inv);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_store_corrupt(void **state)
{
	dm_store *s = NULL;
	dm_record *r = NULL;
	char p[PATH_MAX];
	const char *dir = store_dir("corrupt");
	assert_int_equal(dm_store_open(dir, &s), 0);

	snprintf(p, sizeof(p), "%s/vfs/0000:3b:01.0.json", dir);
	write_text(p, "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1, \"pciAddress\": \"0000:3b:01.0\", \"own");
	snprintf(p, sizeof(p), "%s/vfs/0000:3b:01.1.json", dir);
	write_text(p, "{\"format\": \"somebody-else\", \"version\": 7}");
	snprintf(p, sizeof(p), "%s/vfs/0000:3b:01.2.json", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/vfs/0000:3b:01.3.json", dir); /* record of another VF */
	write_text(p, "{\"format\": \"ucni-devmgr-allocation\", \"version\": 1, \"pciAddress\": \"0000:3b:01.4\","
	              " \"owner\": \"x\", \"time\": 1}");
	snprintf(p, sizeof(p), "%s/vfs/.tmp.0000:3b:01.5.123", dir);
	write_text(p, "{\"half");

	assert_int_equal(dm_store_get(s, "0000:3b:01.0", &r), -EBADMSG);
	assert_int_equal(dm_store_get(s, "0000:3b:01.1", &r), -EPROTO);
	assert_int_equal(dm_store_get(s, "0000:3b:01.2", &r), -EBADMSG);
	assert_int_equal(dm_store_get(s, "0000:3b:01.3", &r), -EBADMSG);
	assert_int_equal(dm_store_get(s, "0000:3b:01.5", &r), -ENOENT); /* a temp file is no record */

	/* a corrupt record is never claimed over, nor released by an owner, nor gc'ed */
	dm_owner o = { "ctr", NULL, NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &o, NULL), -EBADMSG);
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", "ctr", NULL), -EBADMSG);
	dm_record **list = NULL;
	int *errs = NULL;
	size_t n = 0, rel = 9, cor = 0;
	assert_int_equal(dm_store_list(s, &list, &errs, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_true(errs[i] < 0);
		assert_null(list[i]->owner);
	}
	dm_record_list_free(list, n);
	free(errs);
	assert_int_equal(dm_store_gc(s, &rel, &cor), 0);
	assert_int_equal(rel, 0);
	assert_int_equal(cor, 4);
	assert_int_equal(access(p, F_OK), -1); /* the leftover temp file went */
	assert_int_equal(access("/etc/passwd", F_OK), 0);

	/* the operator may release it by address */
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", NULL, NULL), 0);
	assert_int_equal(dm_store_get(s, "0000:3b:01.0", &r), -ENOENT);
	dm_store_free(s);

	/* a directory with foreign content, a symlink, a file: refused */
	char foreign[PATH_MAX];
	snprintf(foreign, sizeof(foreign), "%s/foreign", fx_workdir);
	mkdir(foreign, 0700);
	snprintf(p, sizeof(p), "%s/precious.txt", foreign);
	write_text(p, "keep me");
	s = (dm_store *)0x1;
	assert_int_equal(dm_store_open(foreign, &s), -EPROTO);
	assert_ptr_equal(s, (dm_store *)0x1);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/format", foreign);
	write_text(p, "ucni-devmgr-store 99\n");
	assert_int_equal(dm_store_open(foreign, &s), -EPROTO);
	snprintf(p, sizeof(p), "%s/link", fx_workdir);
	assert_int_equal(symlink(store_dir("basic"), p), 0);
	assert_int_equal(dm_store_open(p, &s), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/plainfile", fx_workdir);
	write_text(p, "x");
	assert_int_equal(dm_store_open(p, &s), -ENOTDIR);
}

/* A temporary record file that exists already (a hard link planted to a file elsewhere,
 * or a killed writer's leftover: the name is the record's) is replaced, never written into. */
/* dm_store_list(): every record in address order, whatever order they were made in, each
 * error beside its own record (list's lookups rely on the order). */
static void test_store_list_order(void **state)
{
	dm_store *s = NULL;
	char p[PATH_MAX], pci[DM_PCI_ADDR_MAX];
	const char *dir = store_dir("order");
	enum { N = 300 };
	assert_int_equal(dm_store_open(dir, &s), 0);
	dm_owner o = { "ctr", "net1", NULL };
	for (int i = 0; i < N; i++) {
		int k = (i * 7) % N; /* 7 and 300 are coprime: every k once, out of order */
		snprintf(pci, sizeof(pci), "0000:%02x:%02x.%d", 0x10 + k / 64, (k / 8) % 8, k % 8);
		if (k % 50 == 3) {
			snprintf(p, sizeof(p), "%s/vfs/%s.json", dir, pci);
			write_text(p, "{\"format\": \"somebody-else\"}");
		} else
			assert_int_equal(dm_store_claim(s, pci, NULL, &o, NULL), DM_CLAIM_NEW);
	}
	dm_record **list = NULL;
	int *errs = NULL;
	size_t n = 0;
	assert_int_equal(dm_store_list(s, &list, &errs, &n), 0);
	assert_int_equal(n, N);
	for (size_t i = 0; i < n; i++) {
		snprintf(pci, sizeof(pci), "0000:%02zx:%02zx.%zu", 0x10 + i / 64, (i / 8) % 8, i % 8);
		assert_string_equal(list[i]->pci, pci);
		if (i % 50 == 3) {
			assert_true(errs[i] < 0);
			assert_null(list[i]->owner);
		} else {
			assert_int_equal(errs[i], 0);
			assert_string_equal(list[i]->owner, "ctr");
		}
	}
	dm_record_list_free(list, n);
	free(errs);
	dm_store_free(s);
}

static void test_store_tmp_exists(void **state)
{
	dm_store *s = NULL;
	dm_record *r = NULL;
	char victim[PATH_MAX], buf[64];
	const char *dir = store_dir("tmpexists");
	assert_int_equal(dm_store_open(dir, &s), 0);
	snprintf(victim, sizeof(victim), "%s/victim", fx_workdir);
	write_text(victim, "precious");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s/vfs/.tmp.0000:3b:01.0", dir);
		if (link(victim, tmp) < 0)
			_exit(2);
		dm_owner o = { "ctr", NULL, NULL };
		_exit(dm_store_claim(s, "0000:3b:01.0", NULL, &o, NULL) == DM_CLAIM_NEW ? 0 : 3);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	int fd = open(victim, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	assert_string_equal(buf, "precious");
	struct stat vst;
	assert_int_equal(stat(victim, &vst), 0);
	assert_int_equal(vst.st_nlink, 1); /* the planted link was removed, not adopted */
	assert_int_equal(dm_store_get(s, "0000:3b:01.0", &r), 0);
	assert_string_equal(r->owner, "ctr");
	dm_record_free(r);
	dm_store_free(s);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static int entries(const char *path)
{
	int n = 0;
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* The rule for state directories: decided before anything changes, a refused one is
 * left exactly as it was. */
static void test_store_dir_rules(void **state)
{
	dm_store *s = (dm_store *)0x1;
	char p[PATH_MAX], sub[PATH_MAX];
	(void)state;
	/* writable by others: refused, mode and content unchanged (no chmod) */
	snprintf(p, sizeof(p), "%s/open", fx_workdir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(dm_store_open(p, &s), -EPERM);
	assert_ptr_equal(s, (dm_store *)0x1);
	assert_int_equal(mode_of(p), 0777);
	assert_int_equal(entries(p), 0);
	assert_int_equal(chmod(p, 0770), 0);
	assert_int_equal(dm_store_open(p, &s), -EPERM);
	assert_int_equal(mode_of(p), 0770);
	/* not writable by others (0755): used as it is */
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(dm_store_open(p, &s), 0);
	assert_int_equal(mode_of(p), 0755);
	dm_store_free(s);
	/* a store subdirectory writable by others: refused, unchanged */
	snprintf(sub, sizeof(sub), "%s/vfs", p);
	assert_int_equal(chmod(sub, 0777), 0);
	s = (dm_store *)0x1;
	assert_int_equal(dm_store_open(p, &s), -EPERM);
	assert_int_equal(mode_of(sub), 0777);
	assert_int_equal(chmod(sub, 0700), 0);
	/* another owner's: refused, owner and mode unchanged */
	if (geteuid() == 0) {
		snprintf(p, sizeof(p), "%s/foreign-owner", fx_workdir);
		assert_int_equal(mkdir(p, 0700), 0);
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(dm_store_open(p, &s), -EPERM);
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_mode & 07777, 0700);
		assert_int_equal(entries(p), 0);
	}
	/* a new directory (and its missing parents) is 0700 whatever the umask */
	mode_t old = umask(0);
	snprintf(p, sizeof(p), "%s/new/parent/store", fx_workdir);
	assert_int_equal(dm_store_open(p, &s), 0);
	umask(old);
	assert_int_equal(mode_of(p), 0700);
	snprintf(sub, sizeof(sub), "%s/new/parent", fx_workdir);
	assert_int_equal(mode_of(sub), 0700);
	snprintf(sub, sizeof(sub), "%s/vfs", p);
	assert_int_equal(mode_of(sub), 0700);
	dm_store_free(s);
}

static void set_mtime_ago(const char *path, long seconds)
{
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= seconds;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Killed writers' temp files: the next write of the record replaces its own, a writer's
 * sweep (at most once a minute) removes those whose VF lock is free, gc all. */
static void test_store_tmp_sweep(void **state)
{
	dm_store *s = NULL, *other = NULL;
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], legacy[PATH_MAX], lock[PATH_MAX], fmt[PATH_MAX], cfg[PATH_MAX];
	(void)state;
	const char *dir = store_dir("sweep");
	assert_int_equal(dm_store_open(dir, &s), 0);
	assert_int_equal(dm_store_open(dir, &other), 0);
	snprintf(a, sizeof(a), "%s/vfs/.tmp.0000:3b:01.0", dir);
	snprintf(b, sizeof(b), "%s/vfs/.tmp.0000:3b:01.1", dir);
	snprintf(c, sizeof(c), "%s/vfs/.tmp.0000:3b:01.2", dir);
	snprintf(legacy, sizeof(legacy), "%s/vfs/.tmp.0000:3b:01.3.99999999", dir);
	snprintf(lock, sizeof(lock), "%s/store.lock", dir);
	write_text(a, "{\"half");
	write_text(b, "{\"half");
	write_text(c, "{\"half");
	write_text(legacy, "{\"half");
	/* the same record's next write replaces its leftover; no sweep within the minute */
	dm_owner o = { "ctr", NULL, NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &o, NULL), DM_CLAIM_NEW);
	assert_int_equal(access(a, F_OK), -1);
	assert_int_equal(access(b, F_OK), 0);
	assert_int_equal(access(legacy, F_OK), 0);
	/* a minute later the next write sweeps: not the temp file of a VF another holds */
	assert_int_equal(dm_store_lock_vf(other, "0000:3b:01.1", false), 0);
	set_mtime_ago(lock, 120);
	assert_int_equal(dm_store_claim(s, "0000:3b:01.5", NULL, &o, NULL), DM_CLAIM_NEW);
	assert_int_equal(access(b, F_OK), 0);
	assert_int_equal(access(c, F_OK), -1);
	assert_int_equal(access(legacy, F_OK), -1);
	struct stat st;
	assert_int_equal(stat(lock, &st), 0);
	assert_true(time(NULL) - st.st_mtime < 60); /* the sweep's time */
	/* gc: every temp file, the state directory's too */
	snprintf(fmt, sizeof(fmt), "%s/.format.4242", dir);
	snprintf(cfg, sizeof(cfg), "%s/.config.json.tmp", dir);
	write_text(fmt, "x");
	write_text(cfg, "x");
	dm_store_free(other);
	size_t rel = 9;
	assert_int_equal(dm_store_gc(s, &rel, NULL), 0);
	assert_int_equal(access(b, F_OK), -1);
	assert_int_equal(access(fmt, F_OK), -1);
	assert_int_equal(access(cfg, F_OK), -1);
	/* the installed configuration: one atomic write, no temp file left */
	assert_int_equal(dm_store_install_config(s, "{\"resourceList\": []}\n"), 0);
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	assert_int_equal(mode_of(cfg), 0600);
	snprintf(cfg, sizeof(cfg), "%s/.config.json.tmp", dir);
	assert_int_equal(access(cfg, F_OK), -1);
	dm_store_free(s);
}

static void test_store_locks(void **state)
{
	dm_store *s1 = NULL, *s2 = NULL;
	const char *dir = store_dir("locks");
	assert_int_equal(dm_store_open(dir, &s1), 0);
	assert_int_equal(dm_store_open(dir, &s2), 0);
	assert_int_equal(dm_store_lock_vf(s1, "0000:3b:01.0", false), 0);
	assert_int_equal(dm_store_lock_vf(s1, "0000:3b:01.0", false), 0); /* held already */
	assert_int_equal(dm_store_lock_vf(s2, "0000:3b:01.0", false), -EWOULDBLOCK);
	/* work under the held lock through the same handle does not deadlock */
	dm_owner o = { "ctr", "net1", NULL };
	assert_int_equal(dm_store_claim(s1, "0000:3b:01.0", NULL, &o, NULL), DM_CLAIM_NEW);
	assert_int_equal(dm_store_set_data(s1, "0000:3b:01.0", "ctr", "[1,2]"), 0);
	assert_int_equal(dm_store_unlock_vf(s1, "0000:3b:01.0"), 0);
	assert_int_equal(dm_store_unlock_vf(s1, "0000:3b:01.0"), -ENOENT);
	assert_int_equal(dm_store_lock_vf(s2, "0000:3b:01.0", false), 0);
	assert_int_equal(dm_store_release(s2, "0000:3b:01.0", "ctr", NULL), 0);
	dm_store_free(s2); /* drops its lock */
	assert_int_equal(dm_store_lock_vf(s1, "0000:3b:01.0", false), 0);
	dm_store_free(s1);
}

/* A record holding saved state is not dropped without a restore, nor taken over by a claim;
 * the saved-state parser refuses every value out of range; lock waits are bounded. */
static void test_store_saved_state(void **state)
{
	static const char good[] = "{\"format\":1,\"network\":\"n\",\"netdev\":\"eth3\",\"ifindex\":7,"
	                           "\"mac\":\"52:54:00:12:34:56\",\"mtu\":1500,\"up\":false,\"vf\":{\"pf\":\"eth0\","
	                           "\"index\":2,\"mac\":\"00:00:00:00:00:00\",\"vlan\":0,\"qos\":0,\"vlanProto\":33024,"
	                           "\"spoofchk\":1,\"trust\":0,\"linkState\":0,\"minTxRate\":0,\"maxTxRate\":0}}";
	static const char *const bad[][2] = {
		{ "\"vlan\":0,", "\"vlan\":4095," }, { "\"qos\":0,", "\"qos\":8," }, { "\"vlan\":0,\"qos\":0", "\"vlan\":0,\"qos\":3" },
		{ "33024", "1234" }, { "\"spoofchk\":1", "\"spoofchk\":2" }, { "\"linkState\":0", "\"linkState\":3" },
		{ "\"maxTxRate\":0", "\"maxTxRate\":4294967296" }, { "\"maxTxRate\":0", "\"maxTxRate\":0.5" },
		{ "\"mtu\":1500", "\"mtu\":67" }, { "\"mtu\":1500", "\"mtu\":65536" }, { "\"ifindex\":7", "\"ifindex\":0" },
		{ "\"index\":2", "\"index\":4096" }, { "52:54:00:12:34:56", "52:54:00:12:34" }, { "\"eth3\"", "\"a/b\"" },
		{ "\"format\":1", "\"format\":2" }, { "\"up\":false", "\"up\":0" }, { "\"network\":\"n\"", "\"extra\":1" },
		{ ",\"maxTxRate\":0", "" },
	};
	dm_vf_state st;
	char buf[1024];
	assert_int_equal(dm_vf_state_parse(good, &st), 0);
	assert_int_equal(st.vf.index, 2);
	assert_string_equal(st.netdev, "eth3");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at = strstr(good, bad[i][0]);
		assert_non_null(at);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, bad[i][1], at + strlen(bad[i][0]));
		memset(&st, 0x5a, sizeof(st));
		assert_int_equal(dm_vf_state_parse(buf, &st), -EBADMSG);
		assert_int_equal(st.vf.index, 0x5a5a5a5a); /* untouched */
	}
	assert_true(dm_data_is_vf_state(good));
	assert_false(dm_data_is_vf_state("{\"saved\": true}"));
	/* deviceInfoFile: the device-info file ADD created, an absolute path, kept through a round trip */
	snprintf(buf, sizeof(buf), "%.*s,\"deviceInfoFile\":\"/run/di/cni/a-device.json\"}", (int)strlen(good) - 1, good);
	assert_int_equal(dm_vf_state_parse(buf, &st), 0);
	assert_string_equal(st.devinfo_file, "/run/di/cni/a-device.json");
	char *txt = dm_vf_state_format(&st);
	assert_non_null(strstr(txt, "\"deviceInfoFile\":\"/run/di/cni/a-device.json\""));
	free(txt);
	assert_int_equal(dm_vf_state_parse(good, &st), 0);
	assert_string_equal(st.devinfo_file, "");
	txt = dm_vf_state_format(&st);
	assert_null(strstr(txt, "deviceInfoFile"));
	free(txt);
	static const char *const bad_di[] = { "\"relative/x.json\"", "1", "\"\"" };
	for (size_t i = 0; i < ELEMENTSOF(bad_di); i++) {
		snprintf(buf, sizeof(buf), "%.*s,\"deviceInfoFile\":%s}", (int)strlen(good) - 1, good, bad_di[i]);
		assert_int_equal(dm_vf_state_parse(buf, &st), -EBADMSG);
	}

	dm_store *s = NULL, *s2 = NULL;
	dm_record *r = NULL;
	char ns[PATH_MAX];
	assert_int_equal(dm_store_open(store_dir("saved"), &s), 0);
	snprintf(ns, sizeof(ns), "%s/netns-saved", fx_workdir);
	touch(ns);
	dm_owner a = { "ctr-a", "net1", ns }, b = { "ctr-b", "net1", NULL };
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &a, NULL), DM_CLAIM_NEW);
	assert_int_equal(dm_store_set_data(s, "0000:3b:01.0", "ctr-a", good), 0);
	/* the owner cannot drop it without a restore; nobody else can at all */
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", "ctr-a", NULL), -ENOTEMPTY);
	assert_int_equal(dm_store_release(s, "0000:3b:01.0", NULL, NULL), -ENOTEMPTY);
	assert_int_equal(dm_store_drop(s, "0000:3b:01.0", "ctr-b", NULL, DM_DROP_RESTORED), -EBUSY);
	/* stale: a claim does not take it over, nor does gc drop it */
	unlink(ns);
	assert_int_equal(dm_store_claim(s, "0000:3b:01.0", NULL, &b, NULL), -ENOTEMPTY);
	size_t rel = 9, cor = 9;
	assert_int_equal(dm_store_gc(s, &rel, &cor), 0);
	assert_int_equal(rel, 0);
	assert_int_equal(dm_store_get(s, "0000:3b:01.0", &r), 0);
	assert_string_equal(r->owner, "ctr-a");
	dm_record_free(r);
	/* a bounded wait: another handle holds the VF's lock */
	assert_int_equal(dm_store_open(store_dir("saved"), &s2), 0);
	assert_int_equal(dm_store_set_lock_timeout(s2, 0), -EINVAL);
	assert_int_equal(dm_store_set_lock_timeout(s2, 300), 0);
	assert_int_equal(dm_store_lock_vf(s, "0000:3b:01.0", false), 0);
	assert_int_equal(dm_store_lock_vf(s2, "0000:3b:01.0", true), -ETIMEDOUT);
	assert_int_equal(dm_store_drop(s2, "0000:3b:01.0", NULL, NULL, DM_DROP_FORCE), -ETIMEDOUT);
	assert_int_equal(dm_store_unlock_vf(s, "0000:3b:01.0"), 0);
	/* restored: the owner may drop it; forced: anybody */
	assert_int_equal(dm_store_drop(s2, "0000:3b:01.0", "ctr-a", NULL, DM_DROP_RESTORED), 0);
	assert_int_equal(dm_store_claim(s, "0000:3b:01.1", NULL, &b, NULL), DM_CLAIM_NEW);
	assert_int_equal(dm_store_set_data(s, "0000:3b:01.1", "ctr-b", good), 0);
	assert_int_equal(dm_store_drop(s, "0000:3b:01.1", "ctr-x", NULL, DM_DROP_FORCE), 0);
	dm_store_free(s2);
	dm_store_free(s);
}

static void test_claim_from_pool(void **state)
{
	dm_inventory *inv = NULL;
	dm_config *c = NULL;
	dm_store *s = NULL;
	dm_record *r = NULL;
	assert_int_equal(dm_inventory_load(fixture, 0, &inv), 0);
	assert_int_equal(dm_config_parse("{\"resourceList\": ["
	                                 "{\"resourceName\": \"mlx\", \"selectors\": {\"vendors\": [\"15b3\"]}},"
	                                 "{\"resourceName\": \"intel\", \"selectors\": {\"drivers\": [\"iavf\"]}}]}",
	                                 &c, NULL, 0), 0);
	assert_int_equal(dm_store_open(store_dir("pool"), &s), 0);

	/* mlx: VFs 0..6 healthy on NUMA 1, VF 7 unbound (skipped) */
	char got[8][DM_PCI_ADDR_MAX];
	for (int i = 0; i < 7; i++) {
		char id[16];
		snprintf(id, sizeof(id), "c%d", i);
		dm_owner o = { id, "net1", NULL };
		assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &o, 0, &r), DM_CLAIM_NEW);
		strcpy(got[i], r->pci);
		assert_string_equal(r->pool, "mlx");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(got[j], got[i]);
		dm_record_free(r);
	}
	dm_owner late = { "late", "net1", NULL }, c3 = { "c3", "net1", NULL };
	r = (dm_record *)0x1;
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &late, -1, &r), -ENOSPC);
	assert_ptr_equal(r, (dm_record *)0x1);
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "mlx", &c3, -1, &r), DM_CLAIM_EXISTING);
	assert_string_equal(r->pci, got[3]);
	dm_record_free(r);
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "nope", &late, -1, &r), -ENOENT);

	/* intel: ens1f1's VFs are unhealthy (PF link down): only ens1f0v0..5 */
	for (int i = 0; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof(id), "i%d", i);
		dm_owner o = { id, NULL, NULL };
		assert_int_equal(dm_store_claim_from_pool(s, c, inv, "intel", &o, 1, &r), DM_CLAIM_NEW);
		assert_int_equal(strncmp(r->pci, "0000:3b:01.", 11), 0);
		dm_record_free(r);
	}
	assert_int_equal(dm_store_claim_from_pool(s, c, inv, "intel", &late, 0, &r), -ENOSPC);

	/* NUMA preference: free one VF on each node, ask for node 1 */
	dm_config *all = NULL;
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"all\", \"selectors\": {}}]}", &all, NULL, 0), 0);
	assert_int_equal(dm_store_release(s, "0000:3b:01.2", NULL, NULL), 0);
	assert_int_equal(dm_store_release(s, got[5], NULL, NULL), 0);
	assert_int_equal(dm_store_claim_from_pool(s, all, inv, "all", &late, 1, &r), DM_CLAIM_NEW);
	assert_string_equal(r->pci, got[5]);
	dm_record_free(r);
	dm_owner late2 = { "late2", NULL, NULL };
	assert_int_equal(dm_store_claim_from_pool(s, all, inv, "all", &late2, 1, &r), DM_CLAIM_NEW);
	assert_string_equal(r->pci, "0000:3b:01.2"); /* node 1 exhausted: node 0 after */
	dm_record_free(r);
	dm_config_free(all);
	dm_store_free(s);
	dm_config_free(c);
	dm_inventory_free(inv);
}

/* The claim that reads sysfs VF by VF (dm_store_claim_from_pool_sysfs) against the claim
 * over the cheap inventory: two stores, the same requests in the same order, the same
 * answers and the same VFs, described alike. */
typedef struct claim_step {
	const char *pool;
	int numa;
} claim_step;

static void claims_agree(const char *tag, const char *root, const char *conf, const claim_step *steps,
                         size_t n_steps)
{
	dm_inventory *inv = NULL;
	dm_config *c = NULL;
	dm_store *a = NULL, *b = NULL;
	char sa[64], sb[64];
	assert_int_equal(dm_inventory_load(root, 0, &inv), 0);
	assert_int_equal(dm_config_parse(conf, &c, NULL, 0), 0);
	snprintf(sa, sizeof(sa), "%s-inv", tag);
	snprintf(sb, sizeof(sb), "%s-sysfs", tag);
	assert_int_equal(dm_store_open(store_dir(sa), &a), 0);
	assert_int_equal(dm_store_open(store_dir(sb), &b), 0);
	size_t claimed = 0;
	for (size_t i = 0; i < n_steps; i++) {
		/* each step claims until the pool runs dry, then asks once more as an owner it
		 * already served, then frees every third VF and claims those again */
		char first[DM_PCI_ADDR_MAX] = "";
		char owners[512][24];
		size_t n_own = 0;
		for (int k = 0; k < 512; k++) {
			dm_record *ra = NULL, *rb = NULL;
			dm_device dev;
			snprintf(owners[n_own], sizeof(owners[n_own]), "%s-%zu-%d", tag, i, k);
			dm_owner o = { owners[n_own], "net1", NULL };
			int ka = dm_store_claim_from_pool(a, c, inv, steps[i].pool, &o, steps[i].numa, &ra);
			int kb = dm_store_claim_from_pool_sysfs(b, c, root, steps[i].pool, &o, steps[i].numa, &rb, &dev);
			if (ka != kb)
				fail_msg("%s step %zu claim %d: %d by the inventory, %d through sysfs", tag, i, k, ka, kb);
			if (ka < 0)
				break;
			assert_string_equal(ra->pci, rb->pci);
			const dm_device *want = dm_inventory_find(inv, ra->pci);
			assert_non_null(want);
			assert_same_device(want, &dev);
			assert_null(dev.pf);
			if (!first[0])
				strcpy(first, ra->pci);
			dm_record_free(ra);
			dm_record_free(rb);
			n_own++;
			claimed++;
		}
		if (!n_own)
			continue;
		dm_owner again = { owners[0], "net1", NULL };
		dm_record *ra = NULL, *rb = NULL;
		dm_device dev;
		assert_int_equal(dm_store_claim_from_pool(a, c, inv, steps[i].pool, &again, steps[i].numa, &ra),
		                 DM_CLAIM_EXISTING);
		assert_int_equal(dm_store_claim_from_pool_sysfs(b, c, root, steps[i].pool, &again, steps[i].numa, &rb, &dev),
		                 DM_CLAIM_EXISTING);
		assert_string_equal(ra->pci, first);
		assert_string_equal(rb->pci, first);
		assert_same_device(dm_inventory_find(inv, first), &dev);
		dm_record_free(ra);
		dm_record_free(rb);
		for (size_t k = 0; k < n_own; k += 3) {
			assert_int_equal(dm_store_release_owner(a, owners[k], NULL, NULL), 0);
			assert_int_equal(dm_store_release_owner(b, owners[k], NULL, NULL), 0);
		}
		for (size_t k = 0; k < n_own; k += 3) {
			dm_owner o = { owners[k], NULL, NULL };
			assert_true(dm_store_claim_from_pool(a, c, inv, steps[i].pool, &o, steps[i].numa, &ra) >= 0);
			assert_true(dm_store_claim_from_pool_sysfs(b, c, root, steps[i].pool, &o, steps[i].numa, &rb, NULL) >= 0);
			assert_string_equal(ra->pci, rb->pci);
			dm_record_free(ra);
			dm_record_free(rb);
		}
	}
	assert_true(claimed > 0);
	/* the same refusals */
	dm_owner gone = { "gone", NULL, "/nonexistent/netns" }, bad = { "../x", NULL, NULL };
	dm_record *r = (dm_record *)0x1;
	assert_int_equal(dm_store_claim_from_pool_sysfs(b, c, root, "no-such-pool", &gone, -1, &r, NULL), -ENOENT);
	assert_int_equal(dm_store_claim_from_pool_sysfs(b, c, root, steps[0].pool, &bad, -1, &r, NULL), -EINVAL);
	assert_int_equal(dm_store_claim_from_pool_sysfs(b, c, NULL, NULL, &gone, -1, &r, NULL), -EINVAL);
	assert_ptr_equal(r, (dm_record *)0x1);
	char nowhere[PATH_MAX];
	snprintf(nowhere, sizeof(nowhere), "%s/no-such-root", fx_workdir);
	assert_int_equal(dm_store_claim_from_pool_sysfs(b, c, nowhere, steps[0].pool, &gone, -1, &r, NULL),
	                 -ENOENT);
	dm_store_free(a);
	dm_store_free(b);
	dm_config_free(c);
	dm_inventory_free(inv);
}

static void test_claim_sysfs_standard(void **state)
{
	/* conf/devmgr-pools.json's pools (VF ranges by PF name and by address, link types,
	 * drivers, ids), then one pool of everything with each NUMA preference */
	static const char conf[] =
		"{\"resourceList\": ["
		"{\"resourceName\": \"intel_dpdk\", \"selectors\": {\"vendors\": [\"8086\"], \"drivers\": [\"vfio-pci\"]}},"
		"{\"resourceName\": \"intel_netdev\", \"selectors\": [{\"pfNames\": [\"ens1f0#0-5\"]}, {\"pfNames\": [\"ens1f1\"]}]},"
		"{\"resourceName\": \"mlx_low\", \"selectors\": [{\"rootDevices\": [\"0000:af:00.0#0-3\"], \"linkTypes\": [\"ether\"]}]},"
		"{\"resourceName\": \"mlx_rest\", \"selectors\": [{\"vendors\": [\"15b3\"], \"devices\": [\"101e\"]}]},"
		"{\"resourceName\": \"all\", \"selectors\": {}}]}";
	static const claim_step steps[] = {
		{ "intel_dpdk", -1 }, { "intel_netdev", 1 }, { "mlx_low", 0 }, { "mlx_rest", -1 }, { "all", 1 },
	};
	claims_agree("std", fixture, conf, steps, ELEMENTSOF(steps));
}

static void test_claim_sysfs_many(void **state)
{
	char root[PATH_MAX];
	static const char conf[] =
		"{\"resourceList\": ["
		"{\"resourceName\": \"range\", \"selectors\": {\"pfNames\": [\"enp20s0f0#3-5,9-11\"]}},"
		"{\"resourceName\": \"mlx\", \"selectors\": {\"vendors\": [\"15b3\"]}},"
		"{\"resourceName\": \"root\", \"selectors\": {\"rootDevices\": [\"0000:10:00.0#0-7\"]}},"
		"{\"resourceName\": \"all\", \"selectors\": {}}]}";
	static const claim_step steps[] = {
		{ "range", -1 }, { "mlx", 0 }, { "root", 1 }, { "all", 1 }, { "all", -1 },
	};
	/* healthy VFs whose indexes come from offset and stride; then the same tree with
	 * what makes that guess miss or impossible, an unbound VF, a PF without link, and
	 * no class/net (VFs then read in full) */
	snprintf(root, sizeof(root), "%s/claims-many", fx_workdir);
	assert_int_equal(fx_tree(root, "--pfs 3 --vfs 12"), 0);
	claims_agree("many", root, conf, steps, ELEMENTSOF(steps));
	fx_sh_ok("rm '%s/devices/pci0000:00/0000:11:00.5/driver' '%s/bus/pci/drivers/iavf/0000:11:00.5' && "
	   "sed -i /^DRIVER=/d '%s/devices/pci0000:00/0000:11:00.5/uevent'", root, root, root);
	fx_sh_ok("echo 3 > '%s/devices/pci0000:00/0000:10:00.0/sriov_stride'", root);
	fx_sh_ok("rm '%s/devices/pci0000:00/0000:14:00.0/sriov_offset'", root);
	fx_sh_ok("echo 0 > '%s/devices/pci0000:00/0000:18:00.0/net/enp24s0f0/carrier'", root);
	fx_sh_ok("echo down > '%s/devices/pci0000:00/0000:18:00.0/net/enp24s0f0/operstate'", root);
	claims_agree("many-odd", root, conf, steps, ELEMENTSOF(steps));
	fx_sh_ok("rm -rf '%s/class/net'", root);
	claims_agree("many-nomap", root, conf, steps, ELEMENTSOF(steps));
}

/* ------------------------------------------------------------ JSON shapes */

static void assert_type(const cJSON *o, const char *key, int type_mask)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		fail_msg("key %s missing", key);
	if (!(v->type & type_mask))
		fail_msg("key %s has type %d, wanted mask %d", key, v->type, type_mask);
}

static void test_json_schema(void **state)
{
	dm_inventory *inv = NULL;
	assert_int_equal(dm_inventory_load(fixture, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, &inv), 0);
	const dm_device *pf = dm_inventory_find(inv, "ens1f0"), *vf = pf->vfs[6];
	static const char *const common_str[] = { "pciAddress", "role", "vendorId", "deviceId", "class" };
	static const char *const common_opt_str[] = { "vendor", "device", "driver", "vfioPath", "netdev", "mac",
	                                               "operstate", "linkType" };
	cJSON *p = json_device(pf, NULL, NULL, 0);
	cJSON *v = json_device(vf, "dpdk", NULL, 0);
	cJSON *objs[] = { p, v };
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < ELEMENTSOF(common_str); i++)
			assert_type(objs[k], common_str[i], cJSON_String);
		for (size_t i = 0; i < ELEMENTSOF(common_opt_str); i++)
			assert_type(objs[k], common_opt_str[i], cJSON_String | cJSON_NULL);
		assert_type(objs[k], "numaNode", cJSON_Number | cJSON_NULL);
		assert_type(objs[k], "iommuGroup", cJSON_Number | cJSON_NULL);
		assert_type(objs[k], "carrier", cJSON_True | cJSON_False | cJSON_NULL);
		assert_type(objs[k], "healthy", cJSON_True | cJSON_False);
		assert_type(objs[k], "userspaceDriver", cJSON_True | cJSON_False);
		assert_type(objs[k], "problems", cJSON_Array);
	}
	assert_type(p, "totalVfs", cJSON_Number);
	assert_type(p, "numVfs", cJSON_Number);
	assert_type(p, "vfs", cJSON_Array);
	assert_string_equal(cJSON_GetObjectItem(p, "role")->valuestring, "pf");
	assert_type(v, "vfIndex", cJSON_Number);
	assert_type(v, "pf", cJSON_String);
	assert_type(v, "pfNetdev", cJSON_String | cJSON_NULL);
	assert_type(v, "config", cJSON_Object | cJSON_NULL);
	assert_type(v, "pool", cJSON_String);
	assert_type(v, "allocation", cJSON_Object | cJSON_NULL);
	assert_string_equal(cJSON_GetObjectItem(v, "vfioPath")->valuestring, vf->vfio_path);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "userspaceDriver")));
	cJSON_Delete(p);
	cJSON_Delete(v);

	dm_record rec = { .pool = (char *)"dpdk", .owner = (char *)"ctr", .ifname = (char *)"net1",
	                  .netns = NULL, .time = 0, .data = (char *)"{\"a\":1}" };
	strcpy(rec.pci, vf->pci);
	cJSON *r = json_record(&rec, vf);
	static const char *const rs[] = { "pciAddress", "pool", "owner", "ifname", "time", "pf", "pfNetdev" };
	for (size_t i = 0; i < ELEMENTSOF(rs); i++)
		assert_type(r, rs[i], cJSON_String);
	assert_type(r, "netns", cJSON_NULL);
	assert_type(r, "stale", cJSON_False);
	assert_type(r, "vfIndex", cJSON_Number);
	assert_type(r, "data", cJSON_Object);
	assert_string_equal(cJSON_GetObjectItem(r, "time")->valuestring, "1970-01-01T00:00:00Z");
	cJSON_Delete(r);
	/* a pool member: its PF and index as read (a VF no PF links keeps -1), its record */
	cJSON *m = json_pool_member(vf, "used", &rec);
	assert_string_equal(cJSON_GetObjectItem(m, "pciAddress")->valuestring, vf->pci);
	assert_string_equal(cJSON_GetObjectItem(m, "pf")->valuestring, vf->pf_pci);
	assert_int_equal(cJSON_GetObjectItem(m, "vfIndex")->valueint, vf->vf_index);
	assert_string_equal(cJSON_GetObjectItem(m, "driver")->valuestring, "vfio-pci");
	assert_type(m, "netdev", cJSON_NULL);
	assert_type(m, "numaNode", cJSON_Number);
	assert_string_equal(cJSON_GetObjectItem(m, "state")->valuestring, "used");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "allocation"), "owner")->valuestring, "ctr");
	cJSON_Delete(m);
	dm_device lone = *vf;
	lone.vf_index = -1;
	lone.pf_netdev[0] = 0;
	m = json_pool_member(&lone, "free", NULL);
	assert_int_equal(cJSON_GetObjectItem(m, "vfIndex")->valueint, -1);
	assert_type(m, "pfNetdev", cJSON_NULL);
	assert_type(m, "allocation", cJSON_NULL);
	cJSON_Delete(m);
	cJSON *bad = json_device(vf, NULL, NULL, -EBADMSG);
	assert_string_equal(cJSON_GetObjectItem(bad, "allocation")->valuestring, "corrupt");
	cJSON_Delete(bad);
	dm_inventory_free(inv);
}

static int setup(void **state)
{
	if (fx_setup("unit") < 0)
		return -1;
	snprintf(fixture, sizeof(fixture), "%s/sysfs", fx_workdir);
	return fx_tree(fixture, "") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	return fx_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_valid),
		cmocka_unit_test(test_range_invalid),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_pf_keys),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test(test_config_short_pci),
		cmocka_unit_test(test_record_parse),
		cmocka_unit_test(test_sysfs_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_pci_addr),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_vf_lookup),
		cmocka_unit_test(test_virtfn),
		cmocka_unit_test(test_inventory),
		cmocka_unit_test(test_inventory_views),
		cmocka_unit_test(test_inventory_views_many),
		cmocka_unit_test(test_set_num_vfs),
		cmocka_unit_test(test_store_basic),
		cmocka_unit_test(test_store_names),
		cmocka_unit_test(test_store_stale),
		cmocka_unit_test(test_store_corrupt),
		cmocka_unit_test(test_store_list_order),
		cmocka_unit_test(test_store_tmp_exists),
		cmocka_unit_test(test_store_dir_rules),
		cmocka_unit_test(test_store_tmp_sweep),
		cmocka_unit_test(test_store_locks),
		cmocka_unit_test(test_store_saved_state),
		cmocka_unit_test(test_store_cookie),
		cmocka_unit_test(test_pool_cookie),
		cmocka_unit_test(test_claim_from_pool),
		cmocka_unit_test(test_claim_sysfs_standard),
		cmocka_unit_test(test_claim_sysfs_many),
		cmocka_unit_test(test_json_schema),
		cmocka_unit_test(test_inventory_details_of),
		cmocka_unit_test(test_pci_ids_names),
	};
	return cmocka_run_group_tests_name("devmgr", tests, setup, teardown);
}

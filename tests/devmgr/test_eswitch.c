/* Unit tests of the eswitch and node-state parts of libdevmgr that need no kernel: mode
 * names, PF handles (PCI address or netdevsim devlink handle), VF counts written through a
 * netdevsim handle, dm_eswitch_set()'s refusals before anything changes, and the node
 * state of a fake tree (netdevsim included) and its JSON. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../devmgr/internal.h"
#include "../../devmgr/nodestate.h"
#include "fixture.h"

static char fixture[320];

static void read_file(const char *path, char *buf, size_t len)
{
	assert_true(read_small_at(AT_FDCWD, path, buf, len) >= 0);
}

static void test_mode_names(void **state)
{
	(void)state;
	dm_eswitch_mode m = DM_ESWITCH_NONE;
	assert_string_equal(dm_eswitch_mode_name(DM_ESWITCH_LEGACY), "legacy");
	assert_string_equal(dm_eswitch_mode_name(DM_ESWITCH_SWITCHDEV), "switchdev");
	assert_string_equal(dm_eswitch_mode_name(DM_ESWITCH_NONE), "none");
	assert_string_equal(dm_eswitch_mode_name((dm_eswitch_mode)7), "none");
	assert_int_equal(dm_eswitch_mode_parse("switchdev", &m), 0);
	assert_int_equal(m, DM_ESWITCH_SWITCHDEV);
	assert_int_equal(dm_eswitch_mode_parse("legacy", &m), 0);
	assert_int_equal(m, DM_ESWITCH_LEGACY);
	static const char *const bad[] = { "none", "Legacy", "switchdev ", "", "offload" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dm_eswitch_mode_parse(bad[i], &m), -EINVAL);
		assert_int_equal(m, DM_ESWITCH_LEGACY); /* untouched */
	}
	assert_int_equal(dm_eswitch_mode_parse(NULL, &m), -EINVAL);
}

static void test_handles(void **state)
{
	(void)state;
	pf_handle h;
	assert_int_equal(pf_handle_parse("0000:3B:00.1", &h), 0);
	assert_string_equal(h.bus, "pci");
	assert_string_equal(h.dev, "0000:3b:00.1");
	assert_int_equal(pf_handle_parse("3b:00.1", &h), 0);
	assert_string_equal(h.dev, "0000:3b:00.1");
	assert_int_equal(pf_handle_parse("pci/0000:af:00.0", &h), 0);
	assert_string_equal(h.dev, "0000:af:00.0");
	assert_int_equal(pf_handle_parse("netdevsim/netdevsim10", &h), 0);
	assert_string_equal(h.bus, "netdevsim");
	assert_string_equal(h.dev, "netdevsim10");
	static const char *const bad[] = {
		"netdevsim/netdevsim", "netdevsim/netdevsim1x", "netdevsim/../../x", "netdevsim/nsim1",
		"netdevsim/netdevsim12345678901", "usb/1-1", "pci/ens1f0", "ens1f0", "", "pci/", "/0000:3b:00.0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pf_handle_parse(bad[i], &h) != -EINVAL)
			fail_msg("\"%s\" accepted as a PF handle", bad[i]);
	assert_int_equal(pf_handle_parse(NULL, &h), -EINVAL);
}

/* A netdevsim device of files under ROOT: sriov_numvfs N, port eni<ID>np1. */
static void make_netdevsim(const char *root, int id, int n)
{
	fx_sh_ok("d='%s/devices/netdevsim%d' && mkdir -p \"$d/net/eni%dnp1\" '%s/bus/netdevsim/devices' && "
	   "echo %d > \"$d/sriov_numvfs\" && echo 1500 > \"$d/net/eni%dnp1/mtu\" && "
	   "echo 0x1003 > \"$d/net/eni%dnp1/flags\" && echo 02:00:00:00:00:0%d > \"$d/net/eni%dnp1/address\" && "
	   "ln -sfn ../../../devices/netdevsim%d '%s/bus/netdevsim/devices/netdevsim%d'",
	   root, id, id, root, n, id, id, id % 10, id, id, root, id);
}

static void test_num_vfs_by_handle(void **state)
{
	(void)state;
	char path[PATH_MAX], buf[16];
	make_netdevsim(fixture, 3, 0);
	/* no sriov_totalvfs: the kernel bounds it; 0 -> 2 -> 3 goes through 0 */
	assert_int_equal(dm_pf_set_num_vfs(fixture, "netdevsim/netdevsim3", 2), 1);
	snprintf(path, sizeof(path), "%s/devices/netdevsim3/sriov_numvfs", fixture);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "2");
	assert_int_equal(dm_pf_set_num_vfs(fixture, "netdevsim/netdevsim3", 2), 0);
	assert_int_equal(dm_pf_set_num_vfs(fixture, "netdevsim/netdevsim3", 3), 1);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "3");
	assert_int_equal(dm_pf_set_num_vfs(fixture, "netdevsim/netdevsim4", 1), -ENOENT);
	assert_int_equal(dm_pf_set_num_vfs(fixture, "netdevsim/x", 1), -EINVAL);
	/* the PCI form still bounds by sriov_totalvfs */
	assert_int_equal(dm_pf_set_num_vfs(fixture, "pci/0000:3b:00.1", 65), -ERANGE);
	fx_sh_ok("echo 0 > '%s'", path);
}

/* The shared sysfs operations (devmgr/sysfsops.c, lib/kernel/sysfs.c) on the fixture. */
static void test_sysfsops(void **state)
{
	(void)state;
	char path[PATH_MAX], buf[64];
	uint32_t flags;
	int n, want;

	/* attribute writes and hex reads: "0x" optional, decimal-looking text is hex too */
	snprintf(path, sizeof(path), "%s/flags", fx_workdir);
	fx_sh_ok("touch '%s'", path);
	assert_int_equal(write_small_at(AT_FDCWD, path, "0x1003\n"), 0);
	assert_int_equal(read_hex_at(AT_FDCWD, path, &flags), 0);
	assert_int_equal(flags, 0x1003);
	assert_int_equal(write_small_at(AT_FDCWD, path, "1002"), 0);
	assert_int_equal(read_hex_at(AT_FDCWD, path, &flags), 0);
	assert_int_equal(flags, 0x1002);
	assert_int_equal(write_small_at(AT_FDCWD, path, "up"), 0);
	assert_int_equal(read_hex_at(AT_FDCWD, path, &flags), -EINVAL);
	assert_int_equal(flags, 0x1002); /* untouched */
	snprintf(path, sizeof(path), "%s/link", fx_workdir);
	fx_sh_ok("ln -s flags '%s'", path);
	assert_int_equal(write_small_at(AT_FDCWD, path, "1"), -ELOOP);
	snprintf(path, sizeof(path), "%s/missing", fx_workdir);
	assert_int_equal(write_small_at(AT_FDCWD, path, "1"), -ENOENT);

	/* the VF count, unbind and bind (the kernel's files made here) */
	int fd = pci_dev_open(fixture, "0000:3b:00.0");
	assert_true(fd >= 0);
	assert_int_equal(read_int_at(fd, "sriov_numvfs", &want), 0);
	assert_int_equal(pf_read_num_vfs(fd, &n), 0);
	assert_int_equal(n, want);
	close(fd);
	assert_int_equal(pci_dev_open(fixture, "0000:3b:7f.0"), -ENOENT);
	fx_sh_ok("cd '%s/bus/pci' && touch drivers/iavf/unbind drivers/iavf/bind drivers_probe", fixture);
	assert_true((fd = pci_dev_open(fixture, "0000:3b:01.0")) >= 0);
	assert_int_equal(pci_driver_unbind(fd, "0000:3b:01.0"), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/iavf/unbind", fixture);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "0000:3b:01.0");
	assert_int_equal(pci_driver_bind(fixture, "0000:3b:01.1", "iavf"), 0);
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/iavf/bind", fixture);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "0000:3b:01.1");
	assert_int_equal(pci_driver_bind(fixture, "0000:3b:01.2", NULL), 0);
	snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", fixture);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "0000:3b:01.2");
	assert_int_equal(pci_driver_bind(fixture, "0000:3b:01.2", "nosuch"), -ENOENT);
	fx_sh_ok("cd '%s/bus/pci' && rm drivers/iavf/unbind drivers/iavf/bind drivers_probe", fixture);

	/* the RDMA device: the first entry of infiniband/ */
	fx_sh_ok("mkdir -p '%s/bus/pci/devices/0000:3b:01.0/infiniband/mlx5_7'", fixture);
	strcpy(buf, "x");
	assert_int_equal(dm_device_rdma(fixture, "0000:3b:01.1", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "x");
	assert_int_equal(dm_device_rdma(fixture, "0000:3b:01.0", buf, 6), -ENAMETOOLONG);
	assert_int_equal(dm_device_rdma(fixture, "3b:01.0", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(dm_device_rdma(fixture, "0000:3b:01.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "mlx5_7");
	fx_sh_ok("rm -r '%s/bus/pci/devices/0000:3b:01.0/infiniband'", fixture);
}

/* Every refusal comes before devlink is asked and leaves the PF as it was. */
static void test_set_refusals(void **state)
{
	(void)state;
	char err[512] = "", path[PATH_MAX], buf[16];
	assert_int_equal(dm_eswitch_set(fixture, "ens1f0", DM_ESWITCH_SWITCHDEV, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ens1f0: neither a PCI address nor a devlink handle"));
	assert_int_equal(dm_eswitch_set(fixture, "0000:77:00.0", DM_ESWITCH_SWITCHDEV, 2, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "0000:77:00.0: no such device"));
	assert_int_equal(dm_eswitch_set(fixture, "0000:3b:00.0", (dm_eswitch_mode)5, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither legacy nor switchdev"));
	assert_int_equal(dm_eswitch_set(fixture, "0000:3b:00.0", DM_ESWITCH_NONE, 2, err, sizeof(err)), -EINVAL);
	assert_int_equal(dm_eswitch_set(fixture, "0000:3b:00.0", DM_ESWITCH_LEGACY, -1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "-1 is not a VF count"));
	assert_int_equal(dm_eswitch_set(fixture, "0000:3b:00.0", DM_ESWITCH_SWITCHDEV, 65, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "65 VFs requested but sriov_totalvfs is 64"));
	assert_int_equal(dm_eswitch_set(fixture, "0000:00:19.0", DM_ESWITCH_SWITCHDEV, 1, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "not an SR-IOV PF"));
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:3b:00.0/sriov_numvfs", fixture);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "8");
	/* the library never writes past its buffer, and takes none */
	assert_int_equal(dm_eswitch_set(fixture, "0000:77:00.0", DM_ESWITCH_LEGACY, 0, NULL, 0), -ENOENT);
	dm_eswitch_mode m = DM_ESWITCH_SWITCHDEV;
	assert_int_equal(dm_eswitch_get(fixture, "0000:77:00.0", &m), -ENOENT);
	assert_int_equal(dm_eswitch_get(fixture, "eth0", &m), -EINVAL);
	assert_int_equal(m, DM_ESWITCH_SWITCHDEV);
}

static const ns_pf *pf_of(const dm_nodestate *s, const char *dev)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->pfs[i].dev, dev))
			return &s->pfs[i];
	fail_msg("no PF %s in the node state", dev);
	abort(); /* not reached: tells the compiler so */
}

static void test_nodestate(void **state)
{
	(void)state;
	dm_nodestate *s = NULL;
	make_netdevsim(fixture, 5, 3);
	assert_int_equal(dm_nodestate_load(fixture, 0, NULL, &s), 0);
	/* 4 PCI PFs (not eno1), then the netdevsim devices */
	assert_true(s->n >= 5);
	assert_string_equal(s->pfs[0].dev, "0000:3b:00.0");
	assert_string_equal(s->pfs[3].dev, "0000:af:00.1");
	assert_string_equal(s->pfs[4].bus, "netdevsim");
	const ns_pf *p = pf_of(s, "0000:3b:00.0");
	assert_string_equal(p->name, "ens1f0");
	assert_int_equal(p->num_vfs, 8);
	assert_int_equal(p->total_vfs, 64);
	assert_int_equal(p->mtu, 1500);
	assert_int_equal(p->speed, 25000);
	assert_int_equal(p->admin_up, 1);
	assert_string_equal(p->link_type, "ETH");
	assert_false(p->eswitch_known);
	assert_int_equal(p->n_vfs, 8);
	for (size_t i = 0; i < p->n_vfs; i++) {
		assert_int_equal(p->vfs[i].id, (int)i);
		assert_int_equal(p->vfs[i].vlan, -1);
	}
	p = pf_of(s, "netdevsim5");
	assert_string_equal(p->name, "eni5np1");
	assert_int_equal(p->total_vfs, -1);
	assert_int_equal(p->n_vfs, 3);
	assert_string_equal(p->vfs[2].pci, "");
	cJSON *j = dm_nodestate_json(s);
	assert_int_equal(cJSON_GetObjectItem(j, "schemaVersion")->valueint, 1);
	cJSON *ifs = cJSON_GetObjectItem(j, "interfaces");
	assert_int_equal(cJSON_GetArraySize(ifs), (int)s->n);
	cJSON *pf = cJSON_GetArrayItem(ifs, 0);
	assert_string_equal(cJSON_GetObjectItem(pf, "devlinkHandle")->valuestring, "pci/0000:3b:00.0");
	assert_string_equal(cJSON_GetObjectItem(pf, "linkSpeed")->valuestring, "25000 Mb/s");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(pf, "eSwitchMode")));
	cJSON_Delete(j);
	dm_nodestate_free(s);

	/* one PF by name, address or handle; none: -ENOENT and nothing returned */
	static const char *const one[] = { "ens2f0", "0000:af:00.0", "af:00.0", "pci/0000:af:00.0" };
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		assert_int_equal(dm_nodestate_load(fixture, 0, one[i], &s), 0);
		assert_int_equal(s->n, 1);
		assert_string_equal(s->pfs[0].dev, "0000:af:00.0");
		dm_nodestate_free(s);
	}
	s = NULL;
	assert_int_equal(dm_nodestate_load(fixture, 0, "eno1", &s), -ENOENT);
	assert_int_equal(dm_nodestate_load(fixture, 0, "0000:3b:01.0", &s), -ENOENT);
	assert_null(s);
	assert_null(dm_nodestate_free(NULL));
}

static int setup(void **state)
{
	if (fx_setup("eswitch") < 0)
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
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_num_vfs_by_handle),
		cmocka_unit_test(test_set_refusals),
		cmocka_unit_test(test_nodestate),
		cmocka_unit_test(test_sysfsops),
	};
	return cmocka_run_group_tests_name("eswitch", tests, setup, teardown);
}

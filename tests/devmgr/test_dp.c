/* Unit tests of the device plugin model (devmgr/dp.h) on generated fake sysfs trees:
 * resources and their names, health reasons and their update from a link notification,
 * the preferred allocation, Allocate's
 * environment, vfio specs and device-info files, and the served marker. */
/* paths here are short temporary directories: truncation cannot happen */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../devmgr/dp.h"
#include "../../devmgr/internal.h"
#include "fixture.h"

static char std_tree[320], many_tree[320];

static const char *std_config =
	"{\"resourceList\": ["
	" {\"resourceName\": \"a\", \"resourcePrefix\": \"example.org\", \"selectors\": {\"pfNames\": [\"ens1f0\", \"ens1f1\"]}},"
	" {\"resourceName\": \"b\", \"policy\": \"spread\", \"excludeTopology\": true, \"selectors\": {\"vendors\": [\"15b3\"]}}"
	"]}";

/* A new tree DIR (the standard layout, or EXTRA's). Its netdevs are administratively up
 * (the generator writes a PF without link as down too): a PF without link here has no
 * carrier, a cable pulled; the tests set a PF down themselves. */
static void make_tree(const char *dir, const char *extra)
{
	assert_int_equal(fx_tree(dir, extra), 0);
	fx_sh_ok("find '%s' -path '*/net/*/flags' -exec sed -i s/0x1002/0x1003/ {} +", dir);
}

static dp_set *build(const char *tree, const char *config, const char *prefix)
{
	dm_config *c = NULL;
	dm_inventory *inv = NULL;
	dp_set *s = NULL;
	char err[256] = "";
	assert_int_equal(dm_config_parse(config, &c, err, sizeof(err)), 0);
	assert_int_equal(dm_inventory_load(tree, 0, &inv), 0);
	assert_int_equal(dp_set_build(c, inv, tree, prefix, &s, err, sizeof(err)), 0);
	dm_inventory_free(inv);
	dm_config_free(c);
	return s;
}

static const dp_device *dev_of(const dp_set *s, const char *res, const char *id)
{
	const dp_resource *r = dp_set_find(s, res);
	assert_non_null(r);
	return dp_resource_device(r, id);
}

/* ------------------------------------------------------------ resources */

static void test_resources(void **state)
{
	dp_set *s = build(std_tree, std_config, NULL);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->res[0].name, "example.org/a");
	assert_string_equal(s->res[0].pool, "a");
	assert_string_equal(s->res[0].endpoint, "ucni-example.org_a.sock");
	assert_int_equal(s->res[0].policy, DP_POLICY_PACKED);
	assert_false(s->res[0].exclude_topology);
	assert_string_equal(s->res[1].name, "intel.com/b"); /* the Go device plugin's default */
	assert_int_equal(s->res[1].policy, DP_POLICY_SPREAD);
	assert_true(s->res[1].exclude_topology);
	/* ens1f0's 8 VFs and ens1f1's 4, sorted by address */
	assert_int_equal(s->res[0].n, 12);
	for (size_t i = 1; i < s->res[0].n; i++)
		assert_true(pci_addr_cmp(s->res[0].dev[i - 1].id, s->res[0].dev[i].id) < 0);
	assert_int_equal(s->res[1].n, 8);
	const dp_device *d = dev_of(s, "example.org/a", "0000:3b:01.0");
	assert_non_null(d);
	assert_true(d->healthy);
	assert_null(d->why);
	assert_string_equal(d->pf, "0000:3b:00.0");
	assert_string_equal(d->driver, "iavf");
	assert_int_equal(d->numa, 0);
	assert_int_equal(d->iommu_group, -1); /* a kernel driver: no group */
	assert_string_equal(d->rdma, "");
	d = dev_of(s, "a", "0000:3b:01.6"); /* by pool name too */
	assert_string_equal(d->driver, "vfio-pci");
	assert_true(d->iommu_group >= 0);
	assert_true(d->healthy);
	assert_int_equal(dev_of(s, "intel.com/b", "0000:af:00.2")->numa, 1);
	assert_null(dp_resource_device(&s->res[0], "0000:af:00.2"));
	assert_null(dp_set_find(s, "intel.com/a"));

	/* the caller's prefix replaces the default, not a pool's own */
	dp_set *t = build(std_tree, std_config, "ucni.io");
	assert_string_equal(t->res[0].name, "example.org/a");
	assert_string_equal(t->res[1].name, "ucni.io/b");
	assert_string_equal(t->res[1].endpoint, "ucni-ucni.io_b.sock");
	assert_false(dp_resource_equal(&s->res[1], &t->res[1]));
	dp_set_free(t);
	t = build(std_tree, std_config, NULL);
	assert_true(dp_resource_equal(&s->res[0], &t->res[0]));
	t->res[0].dev[0].healthy = false;
	assert_false(dp_resource_equal(&s->res[0], &t->res[0]));
	/* excludeTopology: the NUMA node is not part of the answer */
	t->res[1].dev[0].numa = 7;
	assert_true(dp_resource_equal(&s->res[1], &t->res[1]));
	dp_set_free(t);
	dp_set_free(s);
}

static void test_bad_prefix(void **state)
{
	dm_config *c = NULL;
	dm_inventory *inv = NULL;
	dp_set *s = (dp_set *)0x1;
	char err[256] = "";
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"x\", \"resourcePrefix\": \"Bad_Prefix\","
					 " \"selectors\": {}}]}", &c, err, sizeof(err)), 0);
	assert_int_equal(dm_inventory_load(std_tree, 0, &inv), 0);
	assert_int_equal(dp_set_build(c, inv, std_tree, NULL, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Bad_Prefix"));
	assert_ptr_equal(s, (dp_set *)0x1);
	dm_config_free(c);
	assert_int_equal(dm_config_parse(std_config, &c, err, sizeof(err)), 0);
	assert_int_equal(dp_set_build(c, inv, std_tree, "a/b", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a/b"));
	dm_config_free(c);
	dm_inventory_free(inv);
}

static void test_config_keys(void **state)
{
	dm_config *c = NULL;
	char err[256] = "";
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"x\", \"policy\": \"dense\", \"selectors\": {}}]}",
					 &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "resourceList[0].policy"));
	assert_int_equal(dm_config_parse("{\"resourceList\": [{\"resourceName\": \"x\", \"policy\": 1, \"selectors\": {}}]}",
					 &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "policy"));
	assert_int_equal(dm_config_parse(std_config, &c, err, sizeof(err)), 0);
	assert_int_equal(config_pool_policy(c, 0), DP_POLICY_PACKED);
	assert_int_equal(config_pool_policy(c, 1), DP_POLICY_SPREAD);
	assert_false(config_pool_exclude_topology(c, 0));
	assert_true(config_pool_exclude_topology(c, 1));
	dm_config_free(c);
}

/* ------------------------------------------------------------ health */

static void test_health(void **state)
{
	char tree[400];
	snprintf(tree, sizeof(tree), "%s/health", fx_workdir);
	make_tree(tree, "");
	dp_set *s = build(tree, std_config, NULL);
	/* ens1f1 has no carrier; ens2f0's VF 7 has no driver */
	const dp_device *d = dev_of(s, "a", "0000:3b:11.0");
	assert_false(d->healthy);
	assert_string_equal(d->why, "PF has no carrier");
	d = dev_of(s, "b", "0000:af:01.1");
	assert_false(d->healthy);
	assert_string_equal(d->why, "VF has no driver");
	assert_true(dev_of(s, "b", "0000:af:00.2")->healthy);
	dp_set_free(s);

	/* ens1f0's flags alone say it is down (sysfs writes them in hex, "0x1002"), while its
	 * carrier and operstate files still read up */
	assert_int_equal(fx_sh("cd '%s/devices/pci0000:00/0000:3b:00.0/net/ens1f0' && echo 0x1002 > flags && "
			    "echo 1 > carrier && echo up > operstate", tree), 0);
	s = build(tree, std_config, NULL);
	assert_string_equal(dev_of(s, "a", "0000:3b:01.0")->why, "PF is down");
	dp_set_free(s);

	/* ens1f0 administratively down: flags without IFF_UP, no carrier to read */
	assert_int_equal(fx_sh("cd '%s/devices/pci0000:00/0000:3b:00.0/net/ens1f0' && echo 0x1002 > flags && rm carrier && "
			    "echo down > operstate", tree), 0);
	/* ens2f0v0 lost its netdev */
	assert_int_equal(fx_sh("rm -rf '%s/devices/pci0000:00/0000:af:00.2/net' '%s/class/net/ens2f0v0'", tree, tree), 0);
	s = build(tree, std_config, NULL);
	d = dev_of(s, "a", "0000:3b:01.0");
	assert_false(d->healthy);
	assert_string_equal(d->why, "PF is down");
	assert_string_equal(dev_of(s, "a", "0000:3b:01.6")->why, "PF is down"); /* vfio VFs too */
	d = dev_of(s, "b", "0000:af:00.2");
	assert_false(d->healthy);
	assert_string_equal(d->why, "VF has no netdev");

	/* ... unless the store holds it: its netdev is in a pod */
	char st[400];
	dm_store *store;
	dm_owner o = { "pod1", "net1", NULL };
	snprintf(st, sizeof(st), "%s/state-health", fx_workdir);
	assert_int_equal(dp_set_note_attached(s, st), 0); /* no store: nothing changes, nothing made */
	assert_false(dev_of(s, "b", "0000:af:00.2")->healthy);
	assert_int_equal(access(st, F_OK), -1);
	assert_int_equal(dm_store_open(st, &store), 0);
	/* the sriov plugin's deviceID path records no pool: the kubelet's own allocation */
	assert_int_equal(dm_store_claim(store, "0000:af:00.2", NULL, &o, NULL), DM_CLAIM_NEW);
	/* a pool's record (devmgr alloc, the sriov plugin's "pool" key): allocated outside the
	 * kubelet, unhealthy with its netdev here (af:00.4) or without one (af:00.2 above) */
	dm_owner o2 = { "alloc1", NULL, NULL }, o3 = { "pod3", "net1", NULL };
	assert_int_equal(dm_store_claim(store, "0000:af:00.4", "b", &o2, NULL), DM_CLAIM_NEW);
	assert_true(dev_of(s, "b", "0000:af:00.4")->healthy);
	dm_store_free(store);
	assert_int_equal(dp_set_note_attached(s, st), 0);
	assert_true(dev_of(s, "b", "0000:af:00.2")->healthy);
	assert_false(dev_of(s, "b", "0000:af:01.1")->healthy); /* no driver stays */
	d = dev_of(s, "b", "0000:af:00.4");
	assert_false(d->healthy);
	assert_string_equal(d->why, "allocated outside the kubelet (devmgr alloc or a pool attachment)");
	/* a pool's record of a VF without its netdev here is no pod's either */
	assert_int_equal(dm_store_open(st, &store), 0);
	assert_int_equal(dm_store_drop(store, "0000:af:00.2", "pod1", NULL, DM_DROP_RESTORED), 0);
	assert_int_equal(dm_store_claim(store, "0000:af:00.2", "b", &o3, NULL), DM_CLAIM_NEW);
	dm_store_free(store);
	dp_set *again = build(tree, std_config, NULL);
	assert_int_equal(dp_set_note_attached(again, st), 0);
	assert_string_equal(dev_of(again, "b", "0000:af:00.2")->why,
			    "allocated outside the kubelet (devmgr alloc or a pool attachment)");
	assert_false(dev_of(again, "b", "0000:af:00.4")->healthy);
	assert_true(dev_of(again, "b", "0000:af:00.5")->healthy);
	dp_set_free(again);

	/* a VF that disappears stays listed, unhealthy */
	assert_int_equal(fx_sh("rm -f '%s/bus/pci/devices/0000:af:00.3' '%s/devices/pci0000:00/0000:af:00.0/virtfn1'", tree, tree), 0);
	dp_set *now = build(tree, std_config, NULL);
	assert_null(dev_of(now, "b", "0000:af:00.3"));
	assert_int_equal(dp_set_carry_gone(now, s), 0);
	d = dev_of(now, "b", "0000:af:00.3");
	assert_non_null(d);
	assert_false(d->healthy);
	assert_string_equal(d->why, "VF is gone");
	assert_int_equal(dp_set_find(now, "b")->n, 8);
	for (size_t i = 1; i < dp_set_find(now, "b")->n; i++)
		assert_true(pci_addr_cmp(dp_set_find(now, "b")->dev[i - 1].id, dp_set_find(now, "b")->dev[i].id) < 0);
	dp_set_free(now);
	dp_set_free(s);
}

/* Every device of a has the health (and reason) of its namesake in b. */
static void assert_same_health(const dp_set *a, const dp_set *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->res[i].n, b->res[i].n);
		for (size_t j = 0; j < a->res[i].n; j++) {
			const dp_device *x = &a->res[i].dev[j], *y = &b->res[i].dev[j];
			assert_string_equal(x->id, y->id);
			if (x->healthy != y->healthy || (x->why != y->why && (!x->why || !y->why || strcmp(x->why, y->why))))
				fail_msg("%s: %s vs a rescan's %s", x->id, x->why ? x->why : "healthy", y->why ? y->why : "healthy");
		}
	}
}

/* The incremental update from a link notification ends where a rescan would. */
static void test_link_update(void **state)
{
	char tree[400], st[400];
	snprintf(tree, sizeof(tree), "%s/link", fx_workdir);
	snprintf(st, sizeof(st), "%s/state-link", fx_workdir);
	make_tree(tree, "");
	dp_set *s = build(tree, std_config, NULL), *r;
	dp_resource *a = (dp_resource *)dp_set_find(s, "a"), *b = (dp_resource *)dp_set_find(s, "b");
	unsigned long ga = a->gen, gb = b->gen;
	dp_link l = { .name = "ens1f0", .carrier = -1, .operstate = -1 };

	/* ens1f0 loses its carrier (the files, then its notification): its VFs go unhealthy */
	assert_int_equal(fx_sh("cd '%s/class/net/ens1f0' && echo 0 > carrier && echo down > operstate", tree), 0);
	assert_true(dev_of(s, "a", "0000:3b:01.0")->healthy);
	assert_int_equal(dp_set_link_update(s, &l, tree, st), 1);
	assert_string_equal(dev_of(s, "a", "0000:3b:01.0")->why, "PF has no carrier");
	assert_string_equal(dev_of(s, "a", "0000:3b:01.6")->why, "PF has no carrier"); /* vfio too */
	assert_true(a->gen != ga);
	assert_int_equal(b->gen, gb); /* ens2f0's resource untouched */
	assert_true(dev_of(s, "b", "0000:af:00.2")->healthy);
	r = build(tree, std_config, NULL);
	assert_same_health(s, r);
	dp_set_free(r);
	/* the same notification again, and one of a link that is no device's: nothing changed */
	ga = a->gen;
	assert_int_equal(dp_set_link_update(s, &l, tree, st), 0);
	dp_link other = { .name = "veth-x9", .carrier = -1, .operstate = -1 };
	assert_int_equal(dp_set_link_update(s, &other, tree, st), 0);
	assert_int_equal(a->gen, ga);
	/* back */
	assert_int_equal(fx_sh("cd '%s/class/net/ens1f0' && echo 1 > carrier && echo up > operstate", tree), 0);
	assert_int_equal(dp_set_link_update(s, &l, tree, st), 1);
	assert_true(dev_of(s, "a", "0000:3b:01.0")->healthy);
	r = build(tree, std_config, NULL);
	assert_same_health(s, r);
	dp_set_free(r);

	/* the kernel's own facts (have_state): no sysfs read, even from a root that is not there */
	dp_link k = { .name = "ens1f0", .have_state = true, .flags = 0x1002, .carrier = 0, .operstate = 2 };
	assert_int_equal(dp_set_link_update(s, &k, "/nonexistent", st), 1);
	assert_string_equal(dev_of(s, "a", "0000:3b:01.0")->why, "PF is down");
	k.flags = 0x11043; /* IFF_UP | IFF_LOWER_UP ... */
	k.carrier = 0;
	k.operstate = 3; /* lowerlayerdown */
	assert_int_equal(dp_set_link_update(s, &k, "/nonexistent", st), 0);
	assert_string_equal(dev_of(s, "a", "0000:3b:01.0")->why, "PF has no carrier"); /* the reason follows */
	k.carrier = 1;
	k.operstate = 6; /* up */
	assert_int_equal(dp_set_link_update(s, &k, "/nonexistent", st), 1);
	assert_true(dev_of(s, "a", "0000:3b:01.0")->healthy);
	/* ens1f1 (no carrier in the tree) comes up: known by its name, its VFs only */
	dp_link k1 = { .name = "ens1f1", .have_state = true, .flags = 0x11043, .carrier = 1, .operstate = 6 };
	assert_int_equal(dp_set_link_update(s, &k1, "/nonexistent", st), 1);
	assert_true(dev_of(s, "a", "0000:3b:11.0")->healthy);
	k1.carrier = 0;
	k1.operstate = 2;
	assert_int_equal(dp_set_link_update(s, &k1, "/nonexistent", st), 1);
	assert_string_equal(dev_of(s, "a", "0000:3b:11.0")->why, "PF has no carrier");
	assert_true(dev_of(s, "a", "0000:3b:01.0")->healthy);

	/* a VF's netdev renamed: found by its device link, still healthy, known by the new name */
	gb = b->gen;
	assert_int_equal(fx_sh("cd '%s' && mv devices/pci0000:00/0000:af:00.2/net/ens2f0v0 devices/pci0000:00/0000:af:00.2/net/ens2f0v9 && "
			    "rm class/net/ens2f0v0 && ln -s ../../devices/pci0000:00/0000:af:00.2/net/ens2f0v9 class/net/ens2f0v9", tree), 0);
	dp_link v = { .name = "ens2f0v9", .carrier = -1, .operstate = -1 };
	assert_int_equal(dp_set_link_update(s, &v, tree, st), 0);
	assert_string_equal(dev_of(s, "b", "0000:af:00.2")->netdev, "ens2f0v9");
	assert_int_equal(b->gen, gb);
	/* ... gone: unhealthy, that VF only */
	assert_int_equal(fx_sh("rm -rf '%s/devices/pci0000:00/0000:af:00.2/net' '%s/class/net/ens2f0v9'", tree, tree), 0);
	v.gone = true;
	assert_int_equal(dp_set_link_update(s, &v, tree, st), 1);
	assert_string_equal(dev_of(s, "b", "0000:af:00.2")->why, "VF has no netdev");
	assert_true(dev_of(s, "b", "0000:af:00.3")->healthy);
	assert_true(b->gen != gb);
	r = build(tree, std_config, NULL);
	/* the rescan's ens1f1 has no carrier, as the last notification said */
	assert_same_health(s, r);
	dp_set_free(r);
	/* ... unless the store holds it (moved into a pod), as dp_set_note_attached decides */
	dm_store *store;
	dm_owner o = { "pod1", "net1", NULL };
	assert_int_equal(dm_store_open(st, &store), 0);
	assert_int_equal(dm_store_claim(store, "0000:af:00.4", NULL, &o, NULL), DM_CLAIM_NEW);
	dm_store_free(store);
	assert_int_equal(fx_sh("rm -rf '%s/devices/pci0000:00/0000:af:00.4/net' '%s/class/net/ens2f0v2'", tree, tree), 0);
	dp_link v2 = { .name = "ens2f0v2", .gone = true, .carrier = -1, .operstate = -1 };
	assert_int_equal(dp_set_link_update(s, &v2, tree, st), 0);
	assert_true(dev_of(s, "b", "0000:af:00.4")->healthy);
	assert_string_equal(dev_of(s, "b", "0000:af:00.4")->netdev, "");
	/* its PF's carrier flaps: the held VF is healthy again when it comes back, the other not */
	dp_link p2 = { .name = "ens2f0", .carrier = -1, .operstate = -1 };
	assert_int_equal(fx_sh("cd '%s/class/net/ens2f0' && echo 0 > carrier", tree), 0);
	assert_int_equal(dp_set_link_update(s, &p2, tree, st), 1);
	assert_string_equal(dev_of(s, "b", "0000:af:00.4")->why, "PF has no carrier");
	assert_int_equal(fx_sh("cd '%s/class/net/ens2f0' && echo 1 > carrier", tree), 0);
	assert_int_equal(dp_set_link_update(s, &p2, tree, st), 1);
	assert_true(dev_of(s, "b", "0000:af:00.4")->healthy);
	assert_string_equal(dev_of(s, "b", "0000:af:00.2")->why, "VF has no netdev");
	assert_string_equal(dev_of(s, "b", "0000:af:01.1")->why, "VF has no driver"); /* stays */
	r = build(tree, std_config, NULL);
	assert_int_equal(dp_set_note_attached(r, st), 0);
	assert_same_health(s, r);
	dp_set_free(r);

	/* a VF the store holds for a pool stays unhealthy through its PF's link flapping */
	dm_owner o2 = { "alloc1", NULL, NULL };
	assert_int_equal(dm_store_open(st, &store), 0);
	assert_int_equal(dm_store_claim(store, "0000:af:00.5", "b", &o2, NULL), DM_CLAIM_NEW);
	dm_store_free(store);
	r = build(tree, std_config, NULL);
	assert_int_equal(dp_set_note_attached(r, st), 0);
	const char *outside = "allocated outside the kubelet (devmgr alloc or a pool attachment)";
	assert_string_equal(dev_of(r, "b", "0000:af:00.5")->why, outside);
	assert_int_equal(fx_sh("cd '%s/class/net/ens2f0' && echo 0 > carrier", tree), 0);
	assert_int_equal(dp_set_link_update(r, &p2, tree, st), 1);
	assert_string_equal(dev_of(r, "b", "0000:af:00.5")->why, outside);
	assert_int_equal(fx_sh("cd '%s/class/net/ens2f0' && echo 1 > carrier", tree), 0);
	assert_int_equal(dp_set_link_update(r, &p2, tree, st), 1);
	assert_string_equal(dev_of(r, "b", "0000:af:00.5")->why, outside);
	assert_true(dev_of(r, "b", "0000:af:00.4")->healthy);
	dp_set_free(r);

	/* a VF that disappeared (carried as gone) is not brought back by its PF's link */
	assert_int_equal(fx_sh("rm -f '%s/bus/pci/devices/0000:af:00.3' '%s/devices/pci0000:00/0000:af:00.0/virtfn1'", tree, tree), 0);
	r = build(tree, std_config, NULL);
	assert_int_equal(dp_set_note_attached(r, st), 0);
	assert_int_equal(dp_set_carry_gone(r, s), 0);
	assert_int_equal(dp_set_link_update(r, &p2, tree, st), 0);
	assert_string_equal(dev_of(r, "b", "0000:af:00.3")->why, "VF is gone");
	dp_set_free(r);

	dp_link bad = { .name = "", .carrier = -1, .operstate = -1 };
	assert_int_equal(dp_set_link_update(s, &bad, tree, st), -EINVAL);
	assert_int_equal(dp_set_link_update(NULL, &l, tree, st), -EINVAL);
	dp_set_free(s);
}

/* ------------------------------------------------------------ preferred allocation */

/* The many-PF tree: PFs 10 (NUMA 0), 14 (1), 18 (0), 1c (1), four VFs each at bus+1. */
static const char *many_config = "{\"resourceList\": [{\"resourceName\": \"all\", \"selectors\": {}}]}";

static void expect_pick(const dp_resource *r, const char *const *avail, size_t na, const char *const *must, size_t nm,
			size_t size, const char *const *want)
{
	const char *got[64];
	size_t n = 0;
	char err[256] = "";
	assert_int_equal(dp_preferred(r, avail, na, must, nm, size, got, &n, err, sizeof(err)), 0);
	assert_int_equal(n, size);
	for (size_t i = 0; i < size; i++)
		assert_string_equal(got[i], want[i]);
}

static void test_preferred(void **state)
{
	dp_set *s = build(many_tree, many_config, NULL);
	dp_resource *r = &s->res[0];
	const char *all[16];
	char ids[16][DM_PCI_ADDR_MAX];
	assert_int_equal(r->n, 16);
	for (size_t i = 0; i < 16; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s", r->dev[i].id);
		all[i] = ids[i];
	}
	assert_string_equal(all[0], "0000:11:00.0");
	assert_int_equal(dev_of(s, "all", "0000:15:00.0")->numa, 1);

	/* must_include first, then its PF */
	expect_pick(r, all, 16, (const char *[]){ "0000:15:00.1" }, 1, 3,
		    (const char *[]){ "0000:15:00.1", "0000:15:00.0", "0000:15:00.2" });
	/* packed: the PF with the fewest free that covers the request */
	const char *part[] = { "0000:11:00.0", "0000:11:00.1", "0000:11:00.2", "0000:11:00.3", "0000:19:00.2", "0000:19:00.3" };
	expect_pick(r, part, 6, NULL, 0, 2, (const char *[]){ "0000:19:00.2", "0000:19:00.3" });
	expect_pick(r, part, 6, NULL, 0, 3, (const char *[]){ "0000:11:00.0", "0000:11:00.1", "0000:11:00.2" });
	/* ... and when none covers it, the fullest first, on the same NUMA node */
	expect_pick(r, part, 6, NULL, 0, 5,
		    (const char *[]){ "0000:11:00.0", "0000:11:00.1", "0000:11:00.2", "0000:11:00.3", "0000:19:00.2" });
	/* NUMA: what is chosen is on node 1: its PF has nothing more, so another of node 1 */
	const char *mixed[] = { "0000:1d:00.0", "0000:11:00.0", "0000:11:00.1", "0000:11:00.2", "0000:15:00.0", "0000:15:00.3" };
	expect_pick(r, mixed, 6, (const char *[]){ "0000:1d:00.0" }, 1, 3,
		    (const char *[]){ "0000:1d:00.0", "0000:15:00.0", "0000:15:00.3" });
	/* nothing chosen: the node that covers the request with the least to spare */
	expect_pick(r, mixed + 1, 5, NULL, 0, 2, (const char *[]){ "0000:15:00.0", "0000:15:00.3" });
	/* deterministic: the order of available does not matter */
	const char *rev[16];
	for (size_t i = 0; i < 16; i++)
		rev[i] = all[15 - i];
	expect_pick(r, rev, 16, NULL, 0, 3, (const char *[]){ "0000:11:00.0", "0000:11:00.1", "0000:11:00.2" });
	expect_pick(r, all, 16, NULL, 0, 3, (const char *[]){ "0000:11:00.0", "0000:11:00.1", "0000:11:00.2" });

	/* spread: one per PF in turn, the most free first, on one node */
	r->policy = DP_POLICY_SPREAD;
	expect_pick(r, all, 16, NULL, 0, 4,
		    (const char *[]){ "0000:11:00.0", "0000:19:00.0", "0000:11:00.1", "0000:19:00.1" });
	expect_pick(r, part, 6, NULL, 0, 3, (const char *[]){ "0000:11:00.0", "0000:19:00.2", "0000:11:00.1" });
	/* ... away from the PF of what is chosen, on its node (packed would stay on 1d) */
	expect_pick(r, rev, 16, (const char *[]){ "0000:1d:00.3" }, 1, 2, (const char *[]){ "0000:1d:00.3", "0000:15:00.0" });
	r->policy = DP_POLICY_PACKED;

	/* IDs the resource does not know come last */
	expect_pick(r, (const char *[]){ "0000:99:00.0", "0000:11:00.3" }, 2, NULL, 0, 2,
		    (const char *[]){ "0000:11:00.3", "0000:99:00.0" });

	/* errors, each named; nothing returned */
	const char *got[16] = { NULL };
	size_t n = 99;
	char err[256] = "";
	assert_int_equal(dp_preferred(r, all, 16, (const char *[]){ "0000:11:00.0", "0000:11:00.1" }, 2, 1, got, &n, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "smaller"));
	assert_int_equal(dp_preferred(r, part, 6, (const char *[]){ "0000:15:00.0" }, 1, 2, got, &n, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "0000:15:00.0"));
	assert_int_equal(dp_preferred(r, part, 6, NULL, 0, 7, got, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger"));
	assert_int_equal(dp_preferred(r, (const char *[]){ "0000:11:00.0", "0000:11:00.0" }, 2, NULL, 0, 1, got, &n, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(n, 99);
	assert_null(got[0]);
	dp_set_free(s);
}

/* ------------------------------------------------------------ Allocate */

static cJSON *read_json(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = 0;
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int count_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void test_env_name(void **state)
{
	char buf[64];
	assert_int_equal(dp_env_name("intel.com/sriov-a_b", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "PCIDEVICE_INTEL_COM_SRIOV_A_B");
	assert_int_equal(dp_env_name("ucni.io/Net1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "PCIDEVICE_UCNI_IO_NET1");
	assert_int_equal(dp_env_name("x.io/long-name", buf, 12), -ENAMETOOLONG);
}

static void test_allocate(void **state)
{
	char tree[400], di[400], path[800], err[256] = "";
	snprintf(tree, sizeof(tree), "%s/alloc", fx_workdir);
	snprintf(di, sizeof(di), "%s/devinfo", fx_workdir);
	make_tree(tree, "");
	/* an RDMA device on ens2f0v0, listed in its class as the kernel lists it */
	assert_int_equal(fx_sh("mkdir -p '%s/devices/pci0000:00/0000:af:00.2/infiniband/mlx5_3' '%s/class/infiniband' && "
			    "ln -s ../../devices/pci0000:00/0000:af:00.2/infiniband/mlx5_3 '%s/class/infiniband/mlx5_3'",
			    tree, tree, tree), 0);
	dp_set *s = build(tree, std_config, NULL);
	const dp_resource *a = dp_set_find(s, "a"), *b = dp_set_find(s, "b");
	dp_alloc al;
	int g6 = dev_of(s, "a", "0000:3b:01.6")->iommu_group, g7 = dev_of(s, "a", "0000:3b:01.7")->iommu_group;

	/* unknown and unhealthy IDs: refused, named, nothing written (not even the directory) */
	const char *unknown[] = { "0000:3b:01.0", "0000:af:00.2" };
	assert_int_equal(dp_allocate(a, unknown, 2, di, &al, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "0000:af:00.2"));
	const char *sick[] = { "0000:3b:01.0", "0000:3b:11.0" };
	assert_int_equal(dp_allocate(a, sick, 2, di, &al, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "0000:3b:11.0"));
	assert_non_null(strstr(err, "no carrier"));
	assert_int_equal(access(di, F_OK), -1);

	const char *ids[] = { "0000:3b:01.6", "0000:3b:01.0", "0000:3b:01.7" };
	assert_int_equal(dp_allocate(a, ids, 3, di, &al, err, sizeof(err)), 0);
	assert_int_equal(al.n_env, 2);
	assert_string_equal(al.env[0].key, "PCIDEVICE_EXAMPLE_ORG_A");
	assert_string_equal(al.env[0].value, "0000:3b:01.6,0000:3b:01.0,0000:3b:01.7");
	assert_string_equal(al.env[1].key, "PCIDEVICE_EXAMPLE_ORG_A_INFO");
	cJSON *info = cJSON_Parse(al.env[1].value);
	assert_non_null(info);
	assert_int_equal(cJSON_GetArraySize(info), 3);
	const cJSON *v6 = cJSON_GetObjectItemCaseSensitive(info, "0000:3b:01.6");
	char node[32];
	snprintf(node, sizeof(node), "/dev/vfio/%d", g6);
	assert_string_equal(jstr(v6, "generic", "deviceID"), "0000:3b:01.6");
	assert_string_equal(jstr(v6, "vfio", "mount"), "/dev/vfio/vfio");
	assert_string_equal(jstr(v6, "vfio", "dev-mount"), node);
	const cJSON *v0 = cJSON_GetObjectItemCaseSensitive(info, "0000:3b:01.0");
	assert_string_equal(jstr(v0, "generic", "deviceID"), "0000:3b:01.0");
	assert_null(cJSON_GetObjectItemCaseSensitive(v0, "vfio"));
	assert_null(cJSON_GetObjectItemCaseSensitive(v0, "rdma"));
	cJSON_Delete(info);
	/* /dev/vfio/vfio once, each group once */
	assert_int_equal(al.n_spec, 3);
	assert_string_equal(al.spec[0].host, "/dev/vfio/vfio");
	assert_string_equal(al.spec[0].container, "/dev/vfio/vfio");
	assert_string_equal(al.spec[0].perms, "rw");
	assert_string_equal(al.spec[1].host, node);
	snprintf(node, sizeof(node), "/dev/vfio/%d", g7);
	assert_string_equal(al.spec[2].host, node);
	assert_string_equal(al.spec[2].perms, "rw");
	dp_alloc_free(&al);

	/* the device-info files: Device Information Specification 1.1.0, 0444 */
	struct stat st, st2;
	snprintf(path, sizeof(path), "%s/dp/example.org-a-0000:3b:01.0-device.json", di);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	snprintf(path, sizeof(path), "%s", di);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st2.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/dp/example.org-a-0000:3b:01.0-device.json", di);
	cJSON *j = read_json(path);
	assert_string_equal(jstr(j, "type", NULL), "pci");
	assert_string_equal(jstr(j, "version", NULL), "1.1.0");
	assert_string_equal(jstr(j, "pci", "pci-address"), "0000:3b:01.0");
	assert_string_equal(jstr(j, "pci", "pf-pci-address"), "0000:3b:00.0");
	assert_null(jstr(j, "pci", "rdma-device"));
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "%s/dp", di);
	assert_int_equal(count_entries(path), 3);

	/* replaced atomically: a new inode, no temp file left */
	snprintf(path, sizeof(path), "%s/dp/example.org-a-0000:3b:01.0-device.json", di);
	assert_int_equal(dp_allocate(a, ids + 1, 1, di, &al, err, sizeof(err)), 0);
	dp_alloc_free(&al);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st.st_ino != st2.st_ino);
	snprintf(path, sizeof(path), "%s/dp", di);
	assert_int_equal(count_entries(path), 3);

	/* RDMA: in the file; not in _INFO (the device plugin puts it there only for isRdma
	 * pools, with the RDMA character devices, and devmgr refuses isRdma) */
	const char *rd[] = { "0000:af:00.2" };
	assert_int_equal(dp_allocate(b, rd, 1, di, &al, err, sizeof(err)), 0);
	assert_string_equal(al.env[0].key, "PCIDEVICE_INTEL_COM_B");
	info = cJSON_Parse(al.env[1].value);
	assert_non_null(jstr(cJSON_GetObjectItemCaseSensitive(info, "0000:af:00.2"), "generic", "deviceID"));
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(info, "0000:af:00.2"), "rdma"));
	cJSON_Delete(info);
	assert_int_equal(al.n_spec, 0);
	dp_alloc_free(&al);
	snprintf(path, sizeof(path), "%s/dp/intel.com-b-0000:af:00.2-device.json", di);
	j = read_json(path);
	assert_string_equal(jstr(j, "pci", "rdma-device"), "mlx5_3");
	assert_string_equal(jstr(j, "pci", "pf-pci-address"), "0000:af:00.0");
	cJSON_Delete(j);

	/* an ID twice */
	const char *twice[] = { "0000:3b:01.0", "0000:3b:01.0" };
	assert_int_equal(dp_allocate(a, twice, 2, di, &al, err, sizeof(err)), -EINVAL);

	/* dp_allocate_check: the same refusals, and it writes nothing when the IDs are fine */
	snprintf(path, sizeof(path), "%s/dp", di);
	assert_int_equal(count_entries(path), 4);
	assert_int_equal(dp_allocate_check(a, unknown, 2, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "0000:af:00.2"));
	assert_int_equal(dp_allocate_check(a, sick, 2, err, sizeof(err)), -EBUSY);
	assert_int_equal(dp_allocate_check(a, twice, 2, err, sizeof(err)), -EINVAL);
	assert_int_equal(dp_allocate_check(a, (const char *[]){ "0000:3b:01.1" }, 1, err, sizeof(err)), 0);
	assert_int_equal(count_entries(path), 4);

	/* dp_devinfo_remove_dropped: pool b removed, VFs 6 and 7 dropped from a: their files
	 * go, a's VF 0 keeps its file */
	const char *a_only = "{\"resourceList\": [{\"resourceName\": \"a\", \"resourcePrefix\": \"example.org\", "
			     "\"selectors\": {\"pfNames\": [\"ens1f0#0-5\", \"ens1f1\"]}}]}";
	dp_set *now = build(tree, a_only, NULL);
	assert_int_equal(dp_devinfo_remove_dropped(s, now, di), 0);
	assert_int_equal(count_entries(path), 1);
	snprintf(path, sizeof(path), "%s/dp/example.org-a-0000:3b:01.0-device.json", di);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(dp_devinfo_remove_dropped(s, NULL, di), -EINVAL);
	dp_set_free(now);

	/* dp_devinfo_remove: exactly the set's files */
	snprintf(path, sizeof(path), "%s/dp/foreign-device.json", di);
	assert_int_equal(fx_sh("echo {} > '%s'", path), 0);
	assert_int_equal(dp_devinfo_remove(s, di), 0);
	snprintf(path, sizeof(path), "%s/dp", di);
	assert_int_equal(count_entries(path), 1);

	/* a symbolic link for dp/: refused, nothing written through it */
	char elsewhere[400];
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", fx_workdir);
	assert_int_equal(fx_sh("rm -rf '%s/dp' && mkdir '%s' && ln -s '%s' '%s/dp'", di, elsewhere, elsewhere, di), 0);
	assert_int_equal(dp_allocate(a, ids + 1, 1, di, &al, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "device-info directory"));
	assert_int_equal(count_entries(elsewhere), 0);
	dp_set_free(s);
}

/* ------------------------------------------------------------ served marker */

static void test_served(void **state)
{
	char st[400], path[500], res[DP_RESOURCE_MAX];
	snprintf(st, sizeof(st), "%s/state-served", fx_workdir);
	dp_set *s = build(std_tree, std_config, NULL);
	assert_int_equal(dm_pool_served(st, "a", NULL, 0), 0); /* no state dir */
	assert_int_equal(dp_served_mark(st, s, getpid()), 0);
	assert_int_equal(dm_pool_served(st, "a", NULL, 0), 1);
	assert_int_equal(dm_pool_served(st, "b", NULL, 0), 1);
	assert_int_equal(dm_pool_served(st, "c", NULL, 0), 0);
	assert_int_equal(dm_pool_served(st, "a", res, sizeof(res)), 1);
	assert_string_equal(res, "example.org/a");
	/* the store still opens beside the marker */
	dm_store *store;
	assert_int_equal(dm_store_open(st, &store), 0);
	dm_store_free(store);

	/* the start time recorded is field 22 of /proc/<pid>/stat */
	snprintf(path, sizeof(path), "%s/serve.json", st);
	cJSON *j = read_json(path);
	char cmd[128], want[64] = "";
	snprintf(cmd, sizeof(cmd), "awk '{sub(/.*\\) /, \"\"); print $20}' /proc/%d/stat", (int)getpid());
	FILE *pf = popen(cmd, "r");
	assert_non_null(fgets(want, sizeof(want), pf));
	pclose(pf);
	assert_int_equal((long long)cJSON_GetObjectItem(j, "startTime")->valuedouble, atoll(want));
	assert_int_equal(cJSON_GetObjectItem(j, "pid")->valueint, getpid());
	/* a pid given again to another process: its start time differs */
	char *text;
	cJSON_ReplaceItemInObject(j, "startTime", cJSON_CreateNumber(1));
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	free(text);
	assert_int_equal(dm_pool_served(st, "a", NULL, 0), 0);

	/* a serve process that died */
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(dp_served_mark(st, s, child), 0);
	assert_int_equal(dm_pool_served(st, "a", NULL, 0), 1);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(dm_pool_served(st, "a", NULL, 0), 0);
	assert_int_equal(dp_served_mark(st, s, child), -ESRCH);

	/* a corrupt marker is an error, not "served" */
	assert_int_equal(fx_sh("echo '{\"pid\": \"x\"}' > '%s'", path), 0);
	assert_int_equal(dm_pool_served(st, "a", NULL, 0), -EBADMSG);
	assert_int_equal(dp_served_clear(st), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dp_served_clear(st), 0);
	dp_set_free(s);
}

static int setup(void **state)
{
	if (fx_setup("dp") < 0)
		return -1;
	snprintf(std_tree, sizeof(std_tree), "%s/std", fx_workdir);
	snprintf(many_tree, sizeof(many_tree), "%s/many", fx_workdir);
	return fx_tree(std_tree, "") == 0 && fx_tree(many_tree, "--pfs 4 --vfs 4") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	return fx_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_bad_prefix),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_link_update),
		cmocka_unit_test(test_preferred),
		cmocka_unit_test(test_env_name),
		cmocka_unit_test(test_allocate),
		cmocka_unit_test(test_served),
	};
	return cmocka_run_group_tests_name("devmgr-dp", tests, setup, teardown);
}

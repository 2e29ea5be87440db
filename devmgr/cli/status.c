/* devmgr status: the node's SR-IOV state (devmgr/nodestate.c) as JSON or a table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "../nodestate.h"

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static const char *num(int v, char *buf, size_t len)
{
	if (v < 0)
		return "-";
	snprintf(buf, len, "%d", v);
	return buf;
}

static void print_pf(const ns_pf *p)
{
	static const int w[] = { 12, 22, 10, 9, 5, 7, 11, 5, 0 };
	char handle[48], id[16], mtu[16], vfs[40], speed[24], a[16], b[16];
	snprintf(handle, sizeof(handle), "%s%s%s", strcmp(p->bus, "pci") ? p->bus : "", strcmp(p->bus, "pci") ? "/" : "",
	         p->dev);
	if (p->vendor >= 0)
		snprintf(id, sizeof(id), "%04x:%04x", p->vendor, p->device & 0xffff);
	snprintf(vfs, sizeof(vfs), "%s/%s", num(p->num_vfs, a, sizeof(a)), num(p->total_vfs, b, sizeof(b)));
	if (p->speed > 0)
		snprintf(speed, sizeof(speed), "%dMb/s", p->speed);
	table_cell(dash(p->name), w[0], TABLE_BOLD, false);
	table_cell(handle, w[1], NULL, false);
	table_cell(dash(p->driver), w[2], NULL, false);
	table_cell(p->vendor >= 0 ? id : "-", w[3], NULL, false);
	table_cell(num(p->mtu, mtu, sizeof(mtu)), w[4], NULL, false);
	table_cell(vfs, w[5], NULL, false);
	table_cell(p->speed > 0 ? speed : "-", w[6], NULL, false);
	table_cell(p->admin_up < 0 ? "-" : p->admin_up ? "up" : "down", w[7], p->admin_up == 0 ? TABLE_RED : NULL, false);
	table_cell(p->eswitch_known ? dm_eswitch_mode_name(p->eswitch) : "-", w[8], NULL, true);
}

static void print_vfs(const ns_pf *p)
{
	static const char *const names[] = { "  VF", "PCI", "NAME", "DRIVER", "MAC", "VLAN", "MTU", "REPRESENTOR" };
	static const int w[] = { 6, 12, 15, 10, 17, 4, 5, 0 };
	if (!p->n_vfs)
		return;
	table_header(names, w, ELEMENTSOF(names));
	for (size_t i = 0; i < p->n_vfs; i++) {
		const ns_vf *v = &p->vfs[i];
		char id[16], vlan[16], mtu[16];
		snprintf(id, sizeof(id), "  vf%d", v->id);
		table_cell(id, w[0], NULL, false);
		table_cell(dash(v->pci), w[1], NULL, false);
		table_cell(dash(v->name), w[2], NULL, false);
		table_cell(dash(v->driver), w[3], NULL, false);
		table_cell(dash(v->mac), w[4], NULL, false);
		table_cell(num(v->vlan, vlan, sizeof(vlan)), w[5], NULL, false);
		table_cell(num(v->mtu, mtu, sizeof(mtu)), w[6], NULL, false);
		table_cell(dash(v->representor), w[7], NULL, true);
	}
}

int cmd_status(int argc, char **argv)
{
	static const char *const names[] = { "PF", "DEVICE", "DRIVER", "ID", "MTU", "VFS", "SPEED", "ADMIN", "ESWITCH" };
	static const int w[] = { 12, 22, 10, 9, 5, 7, 11, 5, 0 };
	const char *only = argc ? argv[0] : NULL;
	dm_nodestate *s = NULL;
	/* the kernel's facts only when the tree is the running kernel's */
	unsigned flags = !strcmp(opt.sysfs_root, DM_DEFAULT_SYSFS_ROOT) ? NODESTATE_KERNEL : 0;
	int r = dm_nodestate_load(opt.sysfs_root, flags, only, &s);
	if (r == -ENOENT)
		return die(EXIT_NOT_FOUND, "status: %s: no SR-IOV PF of that name, PCI address or devlink handle", only);
	if (r < 0)
		return die(exit_code(r) == EXIT_USAGE ? EXIT_FAIL : exit_code(r), "status: cannot read %s: %s",
		           opt.sysfs_root, strerror(-r));
	if (opt.json)
		print_json(dm_nodestate_json(s));
	else {
		if (!s->n)
			table_header(names, w, ELEMENTSOF(names));
		for (size_t i = 0; i < s->n; i++) {
			if (i == 0 || s->pfs[i - 1].n_vfs)
				table_header(names, w, ELEMENTSOF(names));
			print_pf(&s->pfs[i]);
			print_vfs(&s->pfs[i]);
		}
	}
	dm_nodestate_free(s);
	return EXIT_OK;
}

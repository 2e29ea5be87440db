/* devmgr list and show: the inventory with each VF's pool and allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char *health_text(unsigned h)
{
	if (!h)
		return "ok";
	if (h & DM_UNHEALTHY_NO_DRIVER)
		return "no-driver";
	if (h & DM_UNHEALTHY_PF_NO_LINK)
		return "pf-no-link";
	return "pf-gone";
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void vf_state(const dm_device *vf, const records *rs, char *buf, size_t len)
{
	int err;
	const dm_record *r = record_of(rs, vf->pci, &err);
	if (err)
		snprintf(buf, len, "corrupt-record");
	else if (r)
		snprintf(buf, len, "%s %s%s%s", dm_record_is_stale(r) ? "stale" : "used", r->owner,
		         r->ifname ? "/" : "", r->ifname ? r->ifname : "");
	else if (vf->health)
		snprintf(buf, len, "unhealthy");
	else
		snprintf(buf, len, "free");
}

/* ------------------------------------------------------------------ list */

static cJSON *device_json_full(const dm_device *d, const dm_config *c, const records *rs)
{
	int err;
	const dm_record *r = record_of(rs, d->pci, &err);
	cJSON *o = json_device(d, pool_of(c, d), r, err);
	if (d->role == DM_ROLE_PF) {
		cJSON *vfs = cJSON_GetObjectItemCaseSensitive(o, "vfs");
		for (size_t i = 0; i < d->n_vfs; i++)
			if (d->vfs[i]) {
				const dm_record *vr = record_of(rs, d->vfs[i]->pci, &err);
				cJSON_AddItemToArray(vfs, json_device(d->vfs[i], pool_of(c, d->vfs[i]), vr, err));
			}
	}
	return o;
}

int cmd_list(int argc, char **argv)
{
	ctx x;
	/* the table shows of a VF only what the cheap view has */
	int r = ctx_load(&x, DM_INVENTORY_NAMES | (opt.json ? DM_INVENTORY_DETAILS : 0), CTX_CONFIG | CTX_RECORDS);
	if (r)
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	const records *rs = &x.rs;
	size_t n = dm_inventory_count(inv);
	if (opt.json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddNumberToObject(root, "schemaVersion", 1);
		cJSON *pfs = cJSON_AddArrayToObject(root, "pfs");
		cJSON *nics = cJSON_AddArrayToObject(root, "nics");
		for (size_t i = 0; i < n; i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			if (d->role == DM_ROLE_PF)
				cJSON_AddItemToArray(pfs, device_json_full(d, c, rs));
			else if (d->role == DM_ROLE_NIC)
				cJSON_AddItemToArray(nics, device_json_full(d, c, rs));
			else if (!d->pf) /* a VF whose PF is not a network function */
				cJSON_AddItemToArray(nics, device_json_full(d, c, rs));
		}
		print_json(root);
	} else {
		printf("%-14s %-15s %-10s %-9s %-4s %-9s %-5s %s\n", "DEVICE", "NETDEV", "DRIVER", "ID", "NUMA", "VFS",
		       "LINK", "NAME");
		printf("  %-6s %-14s %-15s %-10s %-10s %-14s %s\n", "VF", "DEVICE", "NETDEV/VFIO", "DRIVER", "HEALTH",
		       "POOL", "STATE");
		for (size_t i = 0; i < n; i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			char id[16], vfs[16], numa[8];
			if (d->role == DM_ROLE_VF && d->pf)
				continue;
			snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
			snprintf(numa, sizeof(numa), "%d", d->numa_node);
			if (d->role == DM_ROLE_PF)
				snprintf(vfs, sizeof(vfs), "%d/%d", d->num_vfs, d->total_vfs);
			else
				snprintf(vfs, sizeof(vfs), "-");
			printf("%-14s %-15s %-10s %-9s %-4s %-9s %-5s %s%s%s\n", d->pci, or_dash(d->netdev),
			       or_dash(d->driver), id, d->numa_node >= 0 ? numa : "-", vfs, or_dash(d->operstate),
			       d->vendor_name ? d->vendor_name : "", d->device_name ? " " : "",
			       d->device_name ? d->device_name : "");
			for (size_t j = 0; j < d->n_vfs; j++) {
				const dm_device *v = d->vfs[j];
				char idx[24], st[320];
				if (!v)
					continue;
				snprintf(idx, sizeof(idx), "vf%zu", j);
				vf_state(v, rs, st, sizeof(st));
				/* a VF on a userspace driver has no netdev: its /dev/vfio node instead */
				printf("  %-6s %-14s %-15s %-10s %-10s %-14s %s\n", idx, v->pci,
				       v->netdev[0] ? v->netdev : v->vfio_path[0] ? v->vfio_path : "-", or_dash(v->driver),
				       health_text(v->health), or_dash(pool_of(c, v)), st);
			}
		}
	}
	ctx_done(&x);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ show */

int cmd_show(int argc, char **argv)
{
	const char *dev = argv[0];
	ctx x;
	int r = ctx_load(&x, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, CTX_CONFIG | CTX_RECORDS);
	if (r)
		return r;
	const dm_device *d = dm_inventory_find(x.inv, dev);
	if (!d) {
		ctx_done(&x);
		return die(EXIT_NOT_FOUND, "%s: no such network PCI device or netdev under %s", dev, opt.sysfs_root);
	}
	cJSON *o = device_json_full(d, x.cfg, &x.rs);
	if (opt.json)
		print_json(o);
	else {
		/* the same facts as the JSON, one "key: value" per line */
		const cJSON *v;
		cJSON_ArrayForEach(v, o) {
			if (cJSON_IsArray(v) && !strcmp(v->string, "vfs")) {
				const cJSON *e;
				printf("%s:", v->string);
				cJSON_ArrayForEach(e, v) {
					const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "pciAddress");
					printf(" %s", a->valuestring);
				}
				printf("\n");
			} else if (cJSON_IsString(v))
				printf("%s: %s\n", v->string, v->valuestring);
			else if (cJSON_IsNull(v))
				printf("%s: -\n", v->string);
			else {
				char *t = cJSON_PrintUnformatted(v);
				printf("%s: %s\n", v->string, t ? t : "?");
				free(t);
			}
		}
		cJSON_Delete(o);
	}
	ctx_done(&x);
	return EXIT_OK;
}


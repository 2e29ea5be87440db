/* devmgr pools and export: the configured pools with their member VFs, for people and
 * for the SR-IOV device plugin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* ----------------------------------------------------------------- pools */

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int int_of(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k)->valueint;
}

/* A pool's row, and a member's row beneath it (-o wide: with its PF, index, driver and
 * NUMA node); the last cell takes what is left of the 100 columns. */
static const char *const pool_head[] = { "POOL", "TOTAL", "FREE", "USED", "STALE", "UNHEALTHY", "MANAGED-BY" };
static const int pool_width[] = { 24, -5, -5, -5, -5, -9, TABLE_WIDTH - 60 };
static const char *const member_head[] = { "  DEVICE", "NETDEV", "STATE", "PF", "VF", "DRIVER", "NUMA", "ALLOCATION" };
static const int member_width[] = { 16, 15, 10, 15, 4, 10, 4, 0 };

static void pool_row(const cJSON *po)
{
	char num[16];
	const char *k[5] = { "total", "free", "used", "stale", "unhealthy" };
	table_cell(str_of(po, "name"), pool_width[0], NULL, false);
	for (int i = 0; i < 5; i++) {
		/* UNHEALTHY counts the corrupt records too */
		snprintf(num, sizeof(num), "%d", int_of(po, k[i]) + (i == 4 ? int_of(po, "corrupt") : 0));
		table_cell(num, pool_width[i + 1], NULL, false);
	}
	/* a served pool: the kubelet hands it out, under its resource name */
	char by[DP_RESOURCE_MAX + 16];
	const char *res = str_of(po, "kubeletResource");
	if (res)
		snprintf(by, sizeof(by), "kubelet (%s)", res);
	else
		snprintf(by, sizeof(by), "devmgr");
	table_cell(by, pool_width[6], res ? TABLE_YELLOW : NULL, true);
}

static void member_row(const cJSON *m, vf_counts *n)
{
	char pci[32], who[600] = "", vf[16], numa[16];
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "allocation");
	const char *state = str_of(m, "state"), *nd = str_of(m, "netdev");
	if (cJSON_IsObject(a))
		snprintf(who, sizeof(who), "%s%s%s", str_of(a, "owner") ? str_of(a, "owner") : "", str_of(a, "ifname") ? "/" : "",
		         str_of(a, "ifname") ? str_of(a, "ifname") : "");
	!strcmp(state, "free") ? n->free++ : !strcmp(state, "used") ? n->used++ : !strcmp(state, "stale") ? n->stale++
	        : !strcmp(state, "corrupt") ? n->corrupt++ : n->unhealthy++;
	snprintf(pci, sizeof(pci), "  %s", str_of(m, "pciAddress"));
	table_cell(pci, member_width[0], NULL, false);
	table_cell(nd ? nd : "-", member_width[1], NULL, false);
	if (!opt.wide) {
		/* the narrow row: state and owner only */
		table_cell(state, member_width[2], state_color(state), false);
		table_cell(who, TABLE_WIDTH - member_width[0] - member_width[1] - member_width[2] - 3, NULL, true);
		return;
	}
	const char *pf = str_of(m, "pfNetdev") ? str_of(m, "pfNetdev") : str_of(m, "pf");
	snprintf(vf, sizeof(vf), "%d", int_of(m, "vfIndex"));
	const cJSON *nn = cJSON_GetObjectItemCaseSensitive(m, "numaNode");
	snprintf(numa, sizeof(numa), "%d", cJSON_IsNumber(nn) ? nn->valueint : -1);
	table_cell(state, member_width[2], state_color(state), false);
	table_cell(pf && *pf ? pf : "-", member_width[3], NULL, false);
	table_cell(int_of(m, "vfIndex") >= 0 ? vf : "-", member_width[4], NULL, false);
	table_cell(str_of(m, "driver") ? str_of(m, "driver") : "-", member_width[5], NULL, false);
	table_cell(cJSON_IsNumber(nn) ? numa : "-", member_width[6], NULL, false);
	table_cell(*who ? who : "-", 0, NULL, true);
}

/* The table of POOLS (the JSON array): each pool, its members beneath, the summary. */
static void pools_table(const cJSON *pools)
{
	const cJSON *po, *m;
	vf_counts cnt = { 0 };
	int np = 0, nm = 0;
	table_header(pool_head, pool_width, ELEMENTSOF(pool_head));
	if (opt.wide)
		table_header(member_head, member_width, ELEMENTSOF(member_head));
	cJSON_ArrayForEach(po, pools) {
		np++;
		pool_row(po);
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(po, "members")) {
			member_row(m, &cnt);
			nm++;
		}
	}
	table_summary(&cnt, "%d pool%s, %d VF%s", np, np == 1 ? "" : "s", nm, nm == 1 ? "" : "s");
}

int cmd_pools(int argc, char **argv)
{
	ctx x;
	int r = ctx_load(&x, 0, CTX_CONFIG_REQUIRED | CTX_RECORDS);
	if (r)
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	const records *rs = &x.rs;
	size_t np = dm_config_pool_count(c), n = dm_inventory_count(inv);
	bool warned = false;
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "schemaVersion", 1);
	cJSON *pools = cJSON_AddArrayToObject(root, "pools");
	for (size_t p = 0; p < np; p++) {
		cJSON *po = cJSON_CreateObject(), *members = cJSON_CreateArray();
		int total = 0, nfree = 0, used = 0, unhealthy = 0, stale = 0, corrupt = 0;
		cJSON_AddStringToObject(po, "name", dm_config_pool_name(c, p));
		const char *prefix = dm_config_pool_prefix(c, p);
		if (prefix)
			cJSON_AddStringToObject(po, "resourcePrefix", prefix);
		else
			cJSON_AddNullToObject(po, "resourcePrefix");
		char res[DP_RESOURCE_MAX];
		int served = dm_pool_served(state_dir(), dm_config_pool_name(c, p), res, sizeof(res));
		if (served < 0 && !warned) {
			fprintf(stderr, "devmgr: pools: the served marker %s/serve.json cannot be read (%s): pools shown as "
			        "devmgr's\n", state_dir(), strerror(-served));
			warned = true;
		}
		cJSON_AddStringToObject(po, "managedBy", served > 0 ? "kubelet" : "devmgr");
		if (served > 0)
			cJSON_AddStringToObject(po, "kubeletResource", res);
		else
			cJSON_AddNullToObject(po, "kubeletResource");
		for (size_t i = 0; i < n; i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			if (d->role != DM_ROLE_VF || dm_config_match(c, d) != (int)p)
				continue;
			int err;
			const dm_record *rec = record_of(rs, d->pci, &err);
			const char *state = err ? "corrupt" : rec ? dm_record_is_stale(rec) ? "stale" : "used"
			                        : d->health ? "unhealthy" : "free";
			total++;
			if (err)
				corrupt++;
			else if (rec)
				dm_record_is_stale(rec) ? stale++ : used++;
			else if (d->health)
				unhealthy++;
			else
				nfree++;
			cJSON_AddItemToArray(members, json_pool_member(d, state, rec));
		}
		cJSON_AddNumberToObject(po, "total", total);
		cJSON_AddNumberToObject(po, "free", nfree);
		cJSON_AddNumberToObject(po, "used", used);
		cJSON_AddNumberToObject(po, "stale", stale);
		cJSON_AddNumberToObject(po, "unhealthy", unhealthy);
		cJSON_AddNumberToObject(po, "corrupt", corrupt);
		cJSON_AddItemToObject(po, "members", members);
		cJSON_AddItemToArray(pools, po);
	}
	if (opt.json)
		print_json(root);
	else {
		pools_table(pools);
		cJSON_Delete(root);
	}
	ctx_done(&x);
	return EXIT_OK;
}

/* ---------------------------------------------------------------- export */

int cmd_export(int argc, char **argv)
{
	ctx x;
	int r;
	if (!opt.format || strcmp(opt.format, "device-plugin"))
		return die(EXIT_USAGE, "export: --format device-plugin is the only format");
	if ((r = ctx_load(&x, 0, CTX_CONFIG_REQUIRED)))
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	/* each pool as the exact set of VFs devmgr assigns to it, so the device plugin's
	 * view cannot differ from devmgr's first-match assignment */
	cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "resourceList");
	for (size_t p = 0; p < dm_config_pool_count(c); p++) {
		cJSON *addrs = cJSON_CreateArray();
		for (size_t i = 0; i < dm_inventory_count(inv); i++) {
			const dm_device *d = dm_inventory_get(inv, i);
			if (d->role == DM_ROLE_VF && dm_config_match(c, d) == (int)p)
				cJSON_AddItemToArray(addrs, cJSON_CreateString(d->pci));
		}
		if (cJSON_GetArraySize(addrs) == 0) {
			/* The device plugin reads an empty pciAddresses as "no filter":
			 * that pool would take every device. Leave it out. */
			fprintf(stderr, "devmgr: export: pool \"%s\" has no VF here; left out\n",
				dm_config_pool_name(c, p));
			cJSON_Delete(addrs);
			continue;
		}
		cJSON *res = cJSON_CreateObject(), *sel = cJSON_CreateObject();
		const char *prefix = dm_config_pool_prefix(c, p);
		cJSON_AddStringToObject(res, "resourceName", dm_config_pool_name(c, p));
		if (prefix)
			cJSON_AddStringToObject(res, "resourcePrefix", prefix);
		cJSON_AddStringToObject(res, "deviceType", "netDevice");
		cJSON_AddItemToObject(sel, "pciAddresses", addrs);
		cJSON *sels = cJSON_AddArrayToObject(res, "selectors");
		cJSON_AddItemToArray(sels, sel);
		cJSON_AddItemToArray(list, res);
	}
	print_json(root);
	ctx_done(&x);
	return EXIT_OK;
}


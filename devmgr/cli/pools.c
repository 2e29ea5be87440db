/* devmgr pools and export: the configured pools with their member VFs, for people and
 * for the SR-IOV device plugin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* ----------------------------------------------------------------- pools */

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
		const cJSON *po;
		printf("%-24s %5s %5s %5s %5s %9s\n", "POOL", "TOTAL", "FREE", "USED", "STALE", "UNHEALTHY");
		cJSON_ArrayForEach(po, pools) {
			printf("%-24s %5d %5d %5d %5d %9d\n", cJSON_GetObjectItem(po, "name")->valuestring,
			       cJSON_GetObjectItem(po, "total")->valueint, cJSON_GetObjectItem(po, "free")->valueint,
			       cJSON_GetObjectItem(po, "used")->valueint, cJSON_GetObjectItem(po, "stale")->valueint,
			       cJSON_GetObjectItem(po, "unhealthy")->valueint + cJSON_GetObjectItem(po, "corrupt")->valueint);
			const cJSON *m;
			cJSON_ArrayForEach(m, cJSON_GetObjectItem(po, "members")) {
				const cJSON *a = cJSON_GetObjectItem(m, "allocation");
				const cJSON *nd = cJSON_GetObjectItem(m, "netdev");
				printf("  %-14s %-15s %-10s %s%s%s\n", cJSON_GetObjectItem(m, "pciAddress")->valuestring,
				       cJSON_IsString(nd) ? nd->valuestring : "-", cJSON_GetObjectItem(m, "state")->valuestring,
				       cJSON_IsObject(a) ? cJSON_GetObjectItem(a, "owner")->valuestring : "",
				       cJSON_IsObject(a) && cJSON_IsString(cJSON_GetObjectItem(a, "ifname")) ? "/" : "",
				       cJSON_IsObject(a) && cJSON_IsString(cJSON_GetObjectItem(a, "ifname"))
				               ? cJSON_GetObjectItem(a, "ifname")->valuestring : "");
			}
		}
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


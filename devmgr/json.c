/* The documented JSON shapes of devices and allocation records (README: devmgr). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "ucni/jsoncheck.h"

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_int_or_null(cJSON *o, const char *k, int v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static const char *role_name(dm_role r)
{
	return r == DM_ROLE_PF ? "pf" : r == DM_ROLE_VF ? "vf" : "nic";
}

static cJSON *health_json(unsigned h)
{
	cJSON *a = cJSON_CreateArray();
	if (h & DM_UNHEALTHY_NO_DRIVER)
		cJSON_AddItemToArray(a, cJSON_CreateString("no-driver"));
	if (h & DM_UNHEALTHY_PF_NO_LINK)
		cJSON_AddItemToArray(a, cJSON_CreateString("pf-no-link"));
	if (h & DM_UNHEALTHY_PF_GONE)
		cJSON_AddItemToArray(a, cJSON_CreateString("pf-gone"));
	return a;
}

static cJSON *vf_config_json(const dm_vf_config *c)
{
	if (!c->valid)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mac", c->mac);
	cJSON_AddNumberToObject(o, "vlan", c->vlan);
	cJSON_AddNumberToObject(o, "qos", c->qos);
	cJSON_AddStringToObject(o, "vlanProto", c->vlan_proto == 0x88a8 ? "802.1ad" : "802.1q");
	if (c->spoofchk >= 0)
		cJSON_AddBoolToObject(o, "spoofchk", c->spoofchk);
	else
		cJSON_AddNullToObject(o, "spoofchk");
	if (c->trust >= 0)
		cJSON_AddBoolToObject(o, "trust", c->trust);
	else
		cJSON_AddNullToObject(o, "trust");
	static const char *const ls[] = { "auto", "enable", "disable" };
	add_str_or_null(o, "linkState", c->link_state >= 0 && c->link_state <= 2 ? ls[c->link_state] : NULL);
	cJSON_AddNumberToObject(o, "minTxRate", c->min_tx_rate);
	cJSON_AddNumberToObject(o, "maxTxRate", c->max_tx_rate);
	return o;
}

/* Where the VF D sits and what runs it. AS_READ: its PF address and index as they are
 * (a pool member: "" and -1 when unknown), else null when unknown (a record's device). */
static void add_vf_place(cJSON *o, const dm_device *d, bool as_read)
{
	if (as_read)
		cJSON_AddStringToObject(o, "pf", d->pf_pci);
	else
		add_str_or_null(o, "pf", d->pf_pci);
	add_str_or_null(o, "pfNetdev", d->pf_netdev);
	if (as_read)
		cJSON_AddNumberToObject(o, "vfIndex", d->vf_index);
	else
		add_int_or_null(o, "vfIndex", d->vf_index);
	add_str_or_null(o, "netdev", d->netdev);
	add_str_or_null(o, "driver", d->driver);
	add_int_or_null(o, "numaNode", d->numa_node);
}

cJSON *json_record(const dm_record *r, const dm_device *d)
{
	char ts[32];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pciAddress", r->pci);
	add_str_or_null(o, "pool", r->pool);
	add_str_or_null(o, "owner", r->owner);
	add_str_or_null(o, "ifname", r->ifname);
	add_str_or_null(o, "netns", r->netns);
	time_t t = (time_t)r->time;
	struct tm tm;
	if (gmtime_r(&t, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		cJSON_AddStringToObject(o, "time", ts);
	else
		cJSON_AddNullToObject(o, "time");
	cJSON_AddBoolToObject(o, "stale", dm_record_is_stale(r));
	if (d)
		add_vf_place(o, d, false);
	cJSON *data = r->data && !json_find_nul(r->data, strlen(r->data), NULL) ? cJSON_Parse(r->data) : NULL;
	cJSON_AddItemToObject(o, "data", data ? data : cJSON_CreateNull());
	return o;
}

cJSON *json_device(const dm_device *d, const char *pool, const dm_record *rec, int rec_err)
{
	char buf[16];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pciAddress", d->pci);
	cJSON_AddStringToObject(o, "role", role_name(d->role));
	snprintf(buf, sizeof(buf), "%04x", d->vendor_id);
	cJSON_AddStringToObject(o, "vendorId", buf);
	snprintf(buf, sizeof(buf), "%04x", d->device_id);
	cJSON_AddStringToObject(o, "deviceId", buf);
	snprintf(buf, sizeof(buf), "0x%06x", d->class_code);
	cJSON_AddStringToObject(o, "class", buf);
	add_str_or_null(o, "vendor", d->vendor_name);
	add_str_or_null(o, "device", d->device_name);
	add_str_or_null(o, "driver", d->driver);
	cJSON_AddBoolToObject(o, "userspaceDriver", d->userspace_driver);
	add_int_or_null(o, "iommuGroup", d->iommu_group);
	add_str_or_null(o, "vfioPath", d->vfio_path);
	add_str_or_null(o, "netdev", d->netdev);
	add_str_or_null(o, "mac", d->mac);
	add_str_or_null(o, "operstate", d->operstate);
	if (d->carrier >= 0)
		cJSON_AddBoolToObject(o, "carrier", d->carrier);
	else
		cJSON_AddNullToObject(o, "carrier");
	add_str_or_null(o, "linkType", d->link_type);
	add_int_or_null(o, "numaNode", d->numa_node);
	cJSON_AddBoolToObject(o, "healthy", d->health == 0);
	cJSON_AddItemToObject(o, "problems", health_json(d->health));
	if (d->role == DM_ROLE_PF) {
		cJSON_AddNumberToObject(o, "totalVfs", d->total_vfs);
		cJSON_AddNumberToObject(o, "numVfs", d->num_vfs);
		cJSON *vfs = cJSON_AddArrayToObject(o, "vfs");
		(void)vfs; /* filled by the caller, which knows pools and records */
	}
	if (d->role == DM_ROLE_VF) {
		cJSON_AddNumberToObject(o, "vfIndex", d->vf_index);
		cJSON_AddStringToObject(o, "pf", d->pf_pci);
		add_str_or_null(o, "pfNetdev", d->pf_netdev);
		cJSON_AddItemToObject(o, "config", vf_config_json(&d->vf_config));
		add_str_or_null(o, "pool", pool);
		if (rec_err < 0)
			cJSON_AddStringToObject(o, "allocation", "corrupt");
		else if (rec)
			cJSON_AddItemToObject(o, "allocation", json_record(rec, NULL));
		else
			cJSON_AddNullToObject(o, "allocation");
	}
	return o;
}

cJSON *json_pool_member(const dm_device *d, const char *state, const dm_record *rec)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pciAddress", d->pci);
	add_vf_place(o, d, true);
	cJSON_AddBoolToObject(o, "healthy", d->health == 0);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddItemToObject(o, "allocation", rec ? json_record(rec, NULL) : cJSON_CreateNull());
	return o;
}

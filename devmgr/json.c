/* The documented JSON shapes of devices and allocation records (README: devmgr). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "ucni/jsoncheck.h"

/* Members under constant keys (KEY a string literal): cJSON keeps the pointer instead of a
 * copy, an allocation and a free fewer per member of the thousands list --json makes. */
static cJSON *add_item(cJSON *o, const char *key, cJSON *v)
{
	if (v && !cJSON_AddItemToObjectCS(o, key, v)) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	add_item(o, key, cJSON_CreateString(v));
}

static void add_num(cJSON *o, const char *key, double v)
{
	add_item(o, key, cJSON_CreateNumber(v));
}

static void add_bool(cJSON *o, const char *key, bool v)
{
	add_item(o, key, cJSON_CreateBool(v));
}

static void add_null(cJSON *o, const char *key)
{
	add_item(o, key, cJSON_CreateNull());
}

static cJSON *add_array(cJSON *o, const char *key)
{
	return add_item(o, key, cJSON_CreateArray());
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		add_str(o, k, v);
	else
		add_null(o, k);
}

static void add_int_or_null(cJSON *o, const char *k, int v)
{
	if (v >= 0)
		add_num(o, k, v);
	else
		add_null(o, k);
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
	add_str(o, "mac", c->mac);
	add_num(o, "vlan", c->vlan);
	add_num(o, "qos", c->qos);
	add_str(o, "vlanProto", c->vlan_proto == 0x88a8 ? "802.1ad" : "802.1q");
	if (c->spoofchk >= 0)
		add_bool(o, "spoofchk", c->spoofchk);
	else
		add_null(o, "spoofchk");
	if (c->trust >= 0)
		add_bool(o, "trust", c->trust);
	else
		add_null(o, "trust");
	static const char *const ls[] = { "auto", "enable", "disable" };
	add_str_or_null(o, "linkState", c->link_state >= 0 && c->link_state <= 2 ? ls[c->link_state] : NULL);
	add_num(o, "minTxRate", c->min_tx_rate);
	add_num(o, "maxTxRate", c->max_tx_rate);
	return o;
}

/* Where the VF D sits and what runs it. AS_READ: its PF address and index as they are
 * (a pool member: "" and -1 when unknown), else null when unknown (a record's device). */
static void add_vf_place(cJSON *o, const dm_device *d, bool as_read)
{
	if (as_read)
		add_str(o, "pf", d->pf_pci);
	else
		add_str_or_null(o, "pf", d->pf_pci);
	add_str_or_null(o, "pfNetdev", d->pf_netdev);
	if (as_read)
		add_num(o, "vfIndex", d->vf_index);
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
	add_str(o, "pciAddress", r->pci);
	add_str_or_null(o, "pool", r->pool);
	add_str_or_null(o, "owner", r->owner);
	add_str_or_null(o, "ifname", r->ifname);
	add_str_or_null(o, "netns", r->netns);
	time_t t = (time_t)r->time;
	struct tm tm;
	if (gmtime_r(&t, &tm) && strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		add_str(o, "time", ts);
	else
		add_null(o, "time");
	add_bool(o, "stale", dm_record_is_stale(r));
	if (d)
		add_vf_place(o, d, false);
	cJSON *data = r->data && !json_find_nul(r->data, strlen(r->data), NULL) ? cJSON_Parse(r->data) : NULL;
	add_item(o, "data", data ? data : cJSON_CreateNull());
	return o;
}

cJSON *json_device(const dm_device *d, const char *pool, const dm_record *rec, int rec_err)
{
	char buf[16];
	cJSON *o = cJSON_CreateObject();
	add_str(o, "pciAddress", d->pci);
	add_str(o, "role", role_name(d->role));
	snprintf(buf, sizeof(buf), "%04x", d->vendor_id);
	add_str(o, "vendorId", buf);
	snprintf(buf, sizeof(buf), "%04x", d->device_id);
	add_str(o, "deviceId", buf);
	snprintf(buf, sizeof(buf), "0x%06x", d->class_code);
	add_str(o, "class", buf);
	add_str_or_null(o, "vendor", d->vendor_name);
	add_str_or_null(o, "device", d->device_name);
	add_str_or_null(o, "driver", d->driver);
	add_bool(o, "userspaceDriver", d->userspace_driver);
	add_int_or_null(o, "iommuGroup", d->iommu_group);
	add_str_or_null(o, "vfioPath", d->vfio_path);
	add_str_or_null(o, "netdev", d->netdev);
	add_str_or_null(o, "mac", d->mac);
	add_str_or_null(o, "operstate", d->operstate);
	if (d->carrier >= 0)
		add_bool(o, "carrier", d->carrier);
	else
		add_null(o, "carrier");
	add_str_or_null(o, "linkType", d->link_type);
	add_int_or_null(o, "numaNode", d->numa_node);
	add_bool(o, "healthy", d->health == 0);
	add_item(o, "problems", health_json(d->health));
	if (d->role == DM_ROLE_PF) {
		add_num(o, "totalVfs", d->total_vfs);
		add_num(o, "numVfs", d->num_vfs);
		cJSON *vfs = add_array(o, "vfs");
		(void)vfs; /* filled by the caller, which knows pools and records */
	}
	if (d->role == DM_ROLE_VF) {
		add_num(o, "vfIndex", d->vf_index);
		add_str(o, "pf", d->pf_pci);
		add_str_or_null(o, "pfNetdev", d->pf_netdev);
		add_item(o, "config", vf_config_json(&d->vf_config));
		add_str_or_null(o, "pool", pool);
		if (rec_err < 0)
			add_str(o, "allocation", "corrupt");
		else if (rec)
			add_item(o, "allocation", json_record(rec, NULL));
		else
			add_null(o, "allocation");
	}
	return o;
}

cJSON *json_pool_member(const dm_device *d, const char *state, const dm_record *rec)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "pciAddress", d->pci);
	add_vf_place(o, d, true);
	add_bool(o, "healthy", d->health == 0);
	add_str(o, "state", state);
	add_item(o, "allocation", rec ? json_record(rec, NULL) : cJSON_CreateNull());
	return o;
}

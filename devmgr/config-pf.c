/* The configuration's "pfs" list: one PF's provisioning (numVfs, mtu, linkUp,
 * eswitchMode, externallyManaged) and its vfGroups, every key checked. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define MTU_MIN 68
#define MTU_MAX 65535

void config_pf_done(dm_pf_spec *pf)
{
	free((char *)pf->name);
	free((char *)pf->pci);
	free(pf->vf_groups);
	pf->name = pf->pci = NULL;
	pf->vf_groups = NULL;
	pf->n_vf_groups = 0;
}

static int parse_bool(pctx *x, const cJSON *v, const char *key, bool *ret)
{
	if (!cJSON_IsBool(v))
		FAIL(x, -EINVAL, "%s.%s: must be true or false", x->path, key);
	*ret = cJSON_IsTrue(v);
	return 0;
}

static int parse_mtu(pctx *x, const cJSON *v, const char *key, unsigned *ret)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < MTU_MIN || v->valuedouble > MTU_MAX ||
	    v->valuedouble != (double)v->valueint)
		FAIL(x, -EINVAL, "%s.%s: must be an integer from %d to %d", x->path, key, MTU_MIN, MTU_MAX);
	*ret = (unsigned)v->valueint;
	return 0;
}

/* "on" or "off" (as `ip link set ... vf N trust on` writes it) */
static int parse_onoff(pctx *x, const cJSON *v, const char *key, int *ret)
{
	if (!cJSON_IsString(v) || (strcmp(v->valuestring, "on") && strcmp(v->valuestring, "off")))
		FAIL(x, -EINVAL, "%s.%s: must be \"on\" or \"off\"", x->path, key);
	*ret = !strcmp(v->valuestring, "on");
	return 0;
}

/* A decimal VF index below DM_VF_INDEX_MAX at *P, which moves past it. */
static bool vf_index_at(const char **p, int *ret)
{
	const char *s = *p;
	int n = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		n = n * 10 + (*s - '0');
		if (n >= DM_VF_INDEX_MAX)
			return false;
	}
	*p = s;
	*ret = n;
	return true;
}

/* "2-7" or "3", within the PF's NUM VFs */
static int parse_vf_range(pctx *x, const cJSON *v, int num, dm_vf_group *g)
{
	const char *p;
	int a, b;
	if (!cJSON_IsString(v))
		FAIL(x, -EINVAL, "%s.vfRange: must be a string like \"0-3\"", x->path);
	p = v->valuestring;
	if (!vf_index_at(&p, &a))
		goto bad;
	b = a;
	if (*p == '-') {
		p++;
		if (!vf_index_at(&p, &b))
			goto bad;
	}
	if (*p || a > b)
		goto bad;
	if (b >= num)
		FAIL(x, -EINVAL, "%s.vfRange: \"%s\" goes beyond the PF's numVfs %d (VFs 0-%d)", x->path,
		     val(x, v->valuestring), num, num - 1);
	g->first = a;
	g->last = b;
	return 0;
bad:
	FAIL(x, -EINVAL, "%s.vfRange: \"%s\" is not a VF range like \"0-3\" or \"5\"", x->path, val(x, v->valuestring));
}

static int parse_vf_group(pctx *x, const cJSON *o, int num, dm_vf_group *g)
{
	const cJSON *v, *range = NULL, *mac = NULL;
	int r;

	*g = (dm_vf_group){ .driver = DM_VF_DRIVER_ANY, .trust = -1, .spoofchk = -1 };
	if (!cJSON_IsObject(o))
		FAIL(x, -EINVAL, "%s: must be an object", x->path);
	cJSON_ArrayForEach(v, o) {
		const char *k = v->string;
		if (config_key_repeated(o, v))
			FAIL(x, -EINVAL, "%s: \"%s\" is given twice", x->path, val(x, k));
		if (!strcmp(k, "vfRange"))
			range = v;
		else if (!strcmp(k, "driver")) {
			if (!cJSON_IsString(v) ||
			    (strcmp(v->valuestring, "vfio-pci") && strcmp(v->valuestring, "default")))
				FAIL(x, -EINVAL, "%s.driver: must be \"vfio-pci\" or \"default\" (the kernel's driver for the VF)",
				     x->path);
			g->driver = !strcmp(v->valuestring, "vfio-pci") ? DM_VF_DRIVER_VFIO : DM_VF_DRIVER_DEFAULT;
		} else if (!strcmp(k, "mtu")) {
			if ((r = parse_mtu(x, v, k, &g->mtu)) < 0)
				return r;
		} else if (!strcmp(k, "trust")) {
			if ((r = parse_onoff(x, v, k, &g->trust)) < 0)
				return r;
		} else if (!strcmp(k, "spoofchk")) {
			if ((r = parse_onoff(x, v, k, &g->spoofchk)) < 0)
				return r;
		} else if (!strcmp(k, "mac")) {
			if (!cJSON_IsString(v) || !mac_parse(v->valuestring, g->mac))
				FAIL(x, -EINVAL, "%s.mac: must be a MAC address like 02:00:00:00:00:01", x->path);
			if ((g->mac[0] & 1) || !memcmp(g->mac, "\0\0\0\0\0\0", 6))
				FAIL(x, -EINVAL, "%s.mac: must be a unicast address, not all zeros", x->path);
			g->has_mac = true;
			mac = v;
		} else
			FAIL(x, -EINVAL, "%s: unknown key \"%s\"", x->path, val(x, k));
	}
	if (!range)
		FAIL(x, -EINVAL, "%s: vfRange is missing", x->path);
	if ((r = parse_vf_range(x, range, num, g)) < 0)
		return r;
	if (mac && g->first != g->last)
		FAIL(x, -EINVAL, "%s.mac: one MAC for several VFs; give it in a group of one VF", x->path);
	if (g->mtu && g->driver == DM_VF_DRIVER_VFIO)
		FAIL(x, -EINVAL, "%s.mtu: a VF on vfio-pci has no netdev to set it on", x->path);
	return 0;
}

static int parse_vf_groups(pctx *x, const cJSON *v, dm_pf_spec *pf)
{
	size_t base = strlen(x->path), n, i = 0;
	const cJSON *e;
	int r;

	if (!cJSON_IsArray(v))
		FAIL(x, -EINVAL, "%s.vfGroups: must be an array", x->path);
	n = (size_t)cJSON_GetArraySize(v);
	if (!(pf->vf_groups = calloc(n ? n : 1, sizeof(dm_vf_group))))
		return -ENOMEM;
	cJSON_ArrayForEach(e, v) {
		dm_vf_group *g = &pf->vf_groups[i];
		snprintf(x->path + base, sizeof(x->path) - base, ".vfGroups[%zu]", i);
		if ((r = parse_vf_group(x, e, pf->num_vfs, g)) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (g->first <= pf->vf_groups[j].last && pf->vf_groups[j].first <= g->last)
				FAIL(x, -EINVAL, "%s.vfRange: overlaps vfGroups[%zu] (VFs %d-%d)", x->path, j,
				     pf->vf_groups[j].first, pf->vf_groups[j].last);
		pf->n_vf_groups = ++i;
	}
	x->path[base] = 0;
	return 0;
}

int config_parse_pf(pctx *x, const cJSON *o, dm_pf_spec *pf)
{
	const cJSON *v, *groups = NULL, *link = NULL;
	bool have_num = false;
	int r;

	pf->link_up = -1;
	pf->eswitch_mode = -1;
	if (!cJSON_IsObject(o))
		FAIL(x, -EINVAL, "%s: must be an object", x->path);
	cJSON_ArrayForEach(v, o) {
		const char *k = v->string;
		if (config_key_repeated(o, v))
			FAIL(x, -EINVAL, "%s: \"%s\" is given twice", x->path, val(x, k));
		if (!strcmp(k, "name")) {
			if (!cJSON_IsString(v) || !dm_ifname_valid(v->valuestring))
				FAIL(x, -EINVAL, "%s.name: must be an interface name", x->path);
			if (!(pf->name = strdup(v->valuestring)))
				return -ENOMEM;
		} else if (!strcmp(k, "pciAddress")) {
			char addr[DM_PCI_ADDR_MAX];
			if (!cJSON_IsString(v) || dm_pci_addr_normalize(v->valuestring, addr) < 0)
				FAIL(x, -EINVAL, "%s.pciAddress: must be a PCI address like 0000:3b:00.0", x->path);
			if (!(pf->pci = strdup(addr)))
				return -ENOMEM;
		} else if (!strcmp(k, "numVfs")) {
			if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4096 ||
			    v->valuedouble != (double)v->valueint)
				FAIL(x, -EINVAL, "%s.numVfs: must be an integer from 0 to 4096", x->path);
			pf->num_vfs = v->valueint;
			have_num = true;
		} else if (!strcmp(k, "mtu")) {
			if ((r = parse_mtu(x, v, k, &pf->mtu)) < 0)
				return r;
		} else if (!strcmp(k, "linkUp")) {
			bool b;
			if ((r = parse_bool(x, v, k, &b)) < 0)
				return r;
			pf->link_up = b;
			link = v;
		} else if (!strcmp(k, "eswitchMode")) {
			if (!cJSON_IsString(v) || (strcmp(v->valuestring, "legacy") && strcmp(v->valuestring, "switchdev")))
				FAIL(x, -EINVAL, "%s.eswitchMode: must be \"legacy\" or \"switchdev\"", x->path);
			pf->eswitch_mode = !strcmp(v->valuestring, "switchdev");
		} else if (!strcmp(k, "externallyManaged")) {
			if ((r = parse_bool(x, v, k, &pf->externally_managed)) < 0)
				return r;
		} else if (!strcmp(k, "vfGroups"))
			groups = v; /* after numVfs, which bounds the ranges */
		else
			FAIL(x, -EINVAL, "%s: unknown key \"%s\"", x->path, val(x, k));
	}
	if (!!pf->name == !!pf->pci)
		FAIL(x, -EINVAL, "%s: give exactly one of name and pciAddress", x->path);
	if (!have_num)
		FAIL(x, -EINVAL, "%s: numVfs is missing", x->path);
	if (pf->externally_managed && groups)
		FAIL(x, -EINVAL, "%s.vfGroups: an externallyManaged PF is only verified, its VFs are not configured",
		     x->path);
	if (pf->externally_managed && link)
		FAIL(x, -EINVAL, "%s.linkUp: an externallyManaged PF is only verified, its link is left alone", x->path);
	if (groups && (r = parse_vf_groups(x, groups, pf)) < 0)
		return r;
	if (pf->link_up < 0)
		pf->link_up = pf->num_vfs > 0 && !pf->externally_managed;
	for (size_t i = 0; i < pf->n_vf_groups; i++)
		if (pf->mtu && pf->vf_groups[i].mtu > pf->mtu)
			FAIL(x, -EINVAL, "%s.vfGroups[%zu].mtu: %u is above the PF's mtu %u", x->path, i,
			     pf->vf_groups[i].mtu, pf->mtu);
	return 0;
}

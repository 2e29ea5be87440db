/* devmgr list and show: the inventory with each VF's pool and allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "ucni/parallel.h"

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

/* The VF's state as the table shows it, counted in C. */
static void vf_state(const dm_device *vf, const records *rs, char *buf, size_t len, vf_counts *c)
{
	int err;
	const dm_record *r = record_of(rs, vf->pci, &err);
	if (err) {
		snprintf(buf, len, "corrupt-record");
		c->corrupt++;
	} else if (r) {
		bool stale = dm_record_is_stale(r);
		snprintf(buf, len, "%s %s%s%s", stale ? "stale" : "used", r->owner, r->ifname ? "/" : "",
		         r->ifname ? r->ifname : "");
		stale ? c->stale++ : c->used++;
	} else if (vf->health) {
		snprintf(buf, len, "unhealthy");
		c->unhealthy++;
	} else {
		snprintf(buf, len, "free");
		c->free++;
	}
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

/* S, cJSON_Print()'s text of a value DEPTH levels deep in the document, as it
 * stands there: a tab more before each line after the first. Freed: S; NULL on ENOMEM. */
static char *nested(char *s, size_t depth)
{
	size_t lines = 0, len = 0;
	if (!s)
		return NULL;
	for (const char *p = s; *p; p++, len++)
		lines += *p == '\n';
	char *t = malloc(len + lines * depth + 1), *q = t;
	if (t)
		for (const char *p = s; *p; p++) {
			*q++ = *p;
			if (*p == '\n')
				for (size_t k = 0; k < depth; k++)
					*q++ = '\t';
		}
	if (t)
		*q = 0;
	free(s);
	return t;
}

/* A batch of devices formatted on several threads (par_run()), each into its own text:
 * with thousands of VFs, building and printing the trees costs as much as reading them.
 * A batch at a time keeps only its texts in memory. */
#define JSON_BATCH PAR_THREADS_MAX

typedef struct json_batch {
	const dm_device *dev[JSON_BATCH];
	char *text[JSON_BATCH];
	size_t n;
	const dm_config *c;
	const records *rs;
} json_batch;

static void json_chunk(size_t begin, size_t end, void *arg)
{
	json_batch *b = arg;
	for (size_t i = begin; i < end; i++) {
		cJSON *o = device_json_full(b->dev[i], b->c, b->rs);
		b->text[i] = o ? nested(cJSON_Print(o), 2) : NULL;
		cJSON_Delete(o);
	}
}

/* Prints the batch's texts in order: elements of an array two levels deep. */
static int batch_flush(json_batch *b, bool *first)
{
	int r = 0;
	par_run(b->n, 1, 1, json_chunk, b);
	for (size_t i = 0; i < b->n; i++) {
		if (!b->text[i])
			r = -ENOMEM;
		else if (r >= 0) {
			fputs(*first ? "" : ", ", stdout);
			*first = false;
			fputs(b->text[i], stdout);
		}
		free(b->text[i]);
	}
	b->n = 0;
	return r;
}

/* The "pfs" (WANT_PFS) or "nics" array of list --json, as cJSON formats it: each PF with its
 * VFs, each other NIC, each VF whose PF is not a network function. */
static int print_devices(const dm_inventory *inv, const dm_config *c, const records *rs, bool want_pfs)
{
	size_t n = dm_inventory_count(inv);
	bool first = true;
	json_batch b = { .c = c, .rs = rs };
	int r = 0;
	putchar('[');
	for (size_t i = 0; i < n && r >= 0; i++) {
		const dm_device *d = dm_inventory_get(inv, i);
		if ((d->role == DM_ROLE_PF) != want_pfs || (d->role == DM_ROLE_VF && d->pf))
			continue;
		b.dev[b.n++] = d;
		if (b.n == JSON_BATCH)
			r = batch_flush(&b, &first);
	}
	if (r >= 0)
		r = batch_flush(&b, &first);
	putchar(']');
	return r;
}

/* A PF's or another NIC's row; its NAME takes what is left of the 100 columns. */
static const char *const dev_head[] = { "DEVICE", "NETDEV", "DRIVER", "ID", "NUMA", "VFS", "LINK", "MAC", "NAME" };
static const int dev_width[] = { 14, 15, 10, 9, 4, 9, 5, 17, 0 };
/* A VF's row, beneath its PF; its STATE takes what is left. */
static const char *const vf_head[] = { "  VF", "DEVICE", "NETDEV/VFIO", "DRIVER", "HEALTH", "POOL", "MAC", "STATE" };
static const int vf_width[] = { 8, 14, 15, 10, 10, 14, 17, 0 };
#define MAC_COL_DEV 7 /* the MAC column, shown only with -o wide */
#define MAC_COL_VF 6

/* The header of a table whose column SKIP (-1: none) is left out. */
static void header_without(const char *const *head, const int *width, size_t n, int skip)
{
	const char *h[16];
	int w[16];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 16; i++)
		if ((int)i != skip) {
			h[k] = head[i];
			w[k++] = width[i];
		}
	table_header(h, w, k);
}

/* The last cell's width: what is left of TABLE_WIDTH after the cells before it. */
static int rest_of(const int *width, size_t n, int skip)
{
	int used = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if ((int)i != skip)
			used += width[i] + 1;
	return TABLE_WIDTH - used;
}

static void list_device_row(const dm_device *d)
{
	char id[16], vfs[32], numa[16], name[2 * LIBPCI_NAME_MAX];
	snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
	snprintf(numa, sizeof(numa), "%d", d->numa_node);
	if (d->role == DM_ROLE_PF)
		snprintf(vfs, sizeof(vfs), "%d/%d", d->num_vfs, d->total_vfs);
	else
		snprintf(vfs, sizeof(vfs), "-");
	snprintf(name, sizeof(name), "%s%s%s", d->vendor_name ? d->vendor_name : "", d->device_name ? " " : "",
	         d->device_name ? d->device_name : "");
	const char *link = or_dash(d->operstate);
	table_cell(d->pci, dev_width[0], NULL, false);
	table_cell(or_dash(d->netdev), dev_width[1], NULL, false);
	table_cell(or_dash(d->driver), dev_width[2], NULL, false);
	table_cell(id, dev_width[3], NULL, false);
	table_cell(d->numa_node >= 0 ? numa : "-", dev_width[4], NULL, false);
	table_cell(vfs, dev_width[5], NULL, false);
	table_cell(link, dev_width[6], !strcmp(link, "up") ? TABLE_GREEN : !strcmp(link, "-") ? NULL : TABLE_RED,
	           false);
	if (opt.wide)
		table_cell(or_dash(d->mac), dev_width[MAC_COL_DEV], NULL, false);
	table_cell(name, rest_of(dev_width, ELEMENTSOF(dev_width), opt.wide ? -1 : MAC_COL_DEV), NULL, true);
}

static void list_vf_row(const dm_device *v, size_t j, const dm_config *c, const records *rs, vf_counts *n)
{
	char idx[32], st[320];
	snprintf(idx, sizeof(idx), "  vf%zu", j);
	vf_state(v, rs, st, sizeof(st), n);
	table_cell(idx, vf_width[0], NULL, false);
	table_cell(v->pci, vf_width[1], NULL, false);
	/* a VF on a userspace driver has no netdev: its /dev/vfio node instead */
	table_cell(v->netdev[0] ? v->netdev : v->vfio_path[0] ? v->vfio_path : "-", vf_width[2], NULL, false);
	table_cell(or_dash(v->driver), vf_width[3], NULL, false);
	table_cell(health_text(v->health), vf_width[4], v->health ? TABLE_RED : TABLE_GREEN, false);
	table_cell(or_dash(pool_of(c, v)), vf_width[5], NULL, false);
	if (opt.wide)
		table_cell(or_dash(v->mac), vf_width[MAC_COL_VF], NULL, false);
	table_cell(st, rest_of(vf_width, ELEMENTSOF(vf_width), opt.wide ? -1 : MAC_COL_VF), state_color(st), true);
}

/* The table: each PF or other NIC, its VFs beneath, and the summary line. */
static void list_table(const dm_inventory *inv, const dm_config *c, const records *rs)
{
	size_t n = dm_inventory_count(inv);
	int pfs = 0, vfs = 0, nics = 0;
	vf_counts cnt = { 0 };
	header_without(dev_head, dev_width, ELEMENTSOF(dev_head), opt.wide ? -1 : MAC_COL_DEV);
	header_without(vf_head, vf_width, ELEMENTSOF(vf_head), opt.wide ? -1 : MAC_COL_VF);
	for (size_t i = 0; i < n; i++) {
		const dm_device *d = dm_inventory_get(inv, i);
		if (d->role == DM_ROLE_VF && d->pf)
			continue;
		d->role == DM_ROLE_PF ? pfs++ : nics++;
		list_device_row(d);
		for (size_t j = 0; j < d->n_vfs; j++)
			if (d->vfs[j]) {
				list_vf_row(d->vfs[j], j, c, rs, &cnt);
				vfs++;
			}
	}
	table_summary(&cnt, "%d PF%s, %d other NIC%s, %d VF%s", pfs, pfs == 1 ? "" : "s", nics, nics == 1 ? "" : "s",
	              vfs, vfs == 1 ? "" : "s");
}

int cmd_list(int argc, char **argv)
{
	ctx x;
	/* the table shows of a VF beneath its PF only what the cheap view has; -o wide adds
	 * its MAC */
	int r = ctx_load(&x, DM_INVENTORY_NAMES | (opt.json || opt.wide ? DM_INVENTORY_DETAILS : INVENTORY_DETAILS_UNLINKED),
	                 CTX_CONFIG | CTX_RECORDS);
	if (r)
		return r;
	const dm_inventory *inv = x.inv;
	const dm_config *c = x.cfg;
	const records *rs = &x.rs;
	if (opt.json) {
		/* {"schemaVersion": 1, "pfs": [...], "nics": [...]} as cJSON_Print() has it, one
		 * device's tree at a time */
		fputs("{\n\t\"schemaVersion\":\t1,\n\t\"pfs\":\t", stdout);
		r = print_devices(inv, c, rs, true);
		if (r >= 0) {
			fputs(",\n\t\"nics\":\t", stdout);
			r = print_devices(inv, c, rs, false);
		}
		if (r >= 0)
			fputs("\n}\n", stdout);
	} else
		list_table(inv, c, rs);
	ctx_done(&x);
	if (r < 0)
		return die(EXIT_FAIL, "list: %s", strerror(-r));
	return EXIT_OK;
}

/* ------------------------------------------------------------------ show */

int cmd_show(int argc, char **argv)
{
	const char *dev = argv[0];
	char pci[DM_PCI_ADDR_MAX];
	ctx x;
	/* the details of DEV (and of its VFs) only; a name that leads to no PCI address is
	 * looked for in the inventory in full */
	bool known = dm_pci_addr_normalize(dev, pci) >= 0 || dm_netdev_to_pci(opt.sysfs_root, dev, pci) >= 0;
	int r = ctx_load_of(&x, DM_INVENTORY_NAMES | DM_INVENTORY_DETAILS, known ? pci : NULL, CTX_CONFIG | CTX_RECORDS);
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


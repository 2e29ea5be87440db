/* The sriov CNI plugin's verbs: take a VF (by PCI address or from a devmgr pool), lock
 * and record it, save its state, configure it through the PF, move its netdev into the
 * container — and put everything back on DEL, GC or a failed ADD. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ucni/fault.h"
#include "ucni/ipam.h"
#include "ucni/ipcfg.h"
#include "ucni/log.h"
#include "ucni/plugin.h"
#include "sriov.h"

/* Fault points after each ADD step (FAULTS=1 builds only, see ucni/fault.h), so
 * the suites can prove the rollback of every step. */
static bool fault(const char *point)
{
	if (!FAULT(point))
		return false;
	cni_fail(CNI_ERR_INTERNAL, -EIO, "fault injected at %s", point);
	return true;
}

static void sr_init(struct sr *s, struct cni_ctx *ctx)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->nsfd = s->hostfd = -1;
	s->host.fd = s->cont.fd = -1;
}

static void sr_free(struct sr *s)
{
	nlsk_close(&s->host);
	nlsk_close(&s->cont);
	if (s->nsfd >= 0)
		close(s->nsfd);
	if (s->hostfd >= 0)
		close(s->hostfd);
	dm_store_free(s->store);
}

static int open_host(struct sr *s)
{
	int r;
	if (s->host.fd >= 0)
		return 0;
	if ((r = nlsk_open(&s->host)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, r, "cannot open the host network namespace");
	return 0;
}

/* ---- ADD ---- */

static int sriov_add(struct cni_ctx *ctx, cJSON **ret)
{
	struct sr s;
	struct cni_result *ipam = NULL;
	struct link_info host_li, li;
	char mac[18];
	const char *ifname = ctx->env.ifname;
	int cont_ifindex = 0, r;
	bool claimed = false, saved = false, ipam_done = false, devinfo = false;
	dm_owner owner = {.id = ctx->env.containerid, .ifname = ifname, .netns = ctx->env.netns};

	sr_init(&s, ctx);
	memset(&host_li, 0, sizeof(host_li));
	if ((r = sriov_conf_parse(&s)) < 0)
		goto out;
	if (!s.c.device_id && !s.c.pool) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
			     "invalid config: no VF given: set \"deviceID\" (or runtimeConfig.deviceID, pciBusID) or \"pool\"");
		goto out;
	}
	if ((r = plugin_netns_open(ctx, &s.nsfd, &s.cont)) < 0 || (r = open_host(&s)) < 0)
		goto out;
	if (link_get_by_name(&s.cont, ifname, &li) == 0) {
		r = cni_fail(CNI_ERR_INVALID_ENV, -EEXIST, "CNI_IFNAME \"%s\" already exists in the container", ifname);
		goto out;
	}
	if (s.c.device_id) {
		memcpy(s.pci, s.c.pci, sizeof(s.pci));
		if ((r = sriov_check_device(&s, s.c.device_key)) < 0 || (r = sriov_check_device_allowed(&s)) < 0)
			goto out;
	}
	if ((r = sriov_open_store(&s)) < 0)
		goto out;
	r = s.c.device_id ? sriov_claim_device(&s, &owner) : sriov_claim_pool(&s, &owner);
	if (r < 0)
		goto out;
	claimed = true;
	if (!s.c.device_id && (r = sriov_check_device(&s, NULL)) < 0)
		goto out;
	if (fault("sriov.claim")) {
		r = -EIO;
		goto out;
	}

	if ((r = sriov_state_save(&s, &host_li)) < 0)
		goto out;
	saved = true;
	if (fault("sriov.save")) {
		r = -EIO;
		goto out;
	}
	if ((r = sriov_vf_apply(&s, &host_li)) < 0)
		goto out;
	if (fault("sriov.vf")) {
		r = -EIO;
		goto out;
	}

	if (!s.dev.userspace_driver) {
		/* One request, as the kernel floor makes it: the kernel moves the netdev (under
		 * its host name, or CNI_IFNAME if that is taken there), sets the MTU, renames it
		 * to CNI_IFNAME inside the container and brings it up. */
		struct link_change ch = LINK_CHANGE_INIT;
		ch.netns_fd = s.nsfd;
		ch.name = ifname;
		ch.mtu = s.c.mtu;
		ch.up = 1;
		if ((r = link_change(&s.host, host_li.ifindex, &ch)) < 0) {
			if (r == -EEXIST)
				cni_fail(CNI_ERR_INVALID_ENV, r, "CNI_IFNAME \"%s\" already exists in the container", ifname);
			else if (s.c.mtu)
				cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s.host),
						"VF %s: moving %s into the container as \"%s\" with mtu %u failed", s.pci,
						host_li.name, ifname, s.c.mtu);
			else
				cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s.host),
						"VF %s: moving %s into the container as \"%s\" failed", s.pci, host_li.name,
						ifname);
			/* It may have moved before the rest failed: the rollback brings it back. */
			cont_ifindex = sriov_vf_find_moved(&s, &host_li, ifname);
			goto out;
		}
		if (fault("sriov.move")) {
			cont_ifindex = sriov_vf_find_moved(&s, &host_li, ifname);
			r = -EIO;
			goto out;
		}
		if ((r = link_get_by_name(&s.cont, ifname, &li)) < 0) {
			cni_fail_kernel(CNI_ERR_KERNEL, r, nlsk_message(&s.cont), "VF %s: \"%s\" cannot be found in the container",
					s.pci, ifname);
			cont_ifindex = sriov_vf_find_moved(&s, &host_li, ifname);
			goto out;
		}
		cont_ifindex = li.ifindex;
		if (fault("sriov.rename")) {
			r = -EIO;
			goto out;
		}
	}

	if (ctx->conf.ipam_type) {
		if ((r = ipam_add(ctx, &ipam)) < 0)
			goto out;
		ipam_done = true;
		for (size_t i = 0; i < ipam->n_ips; i++)
			ipam->ips[i].iface = 0;
		if (fault("sriov.ipam")) {
			r = -EIO;
			goto out;
		}
		/* A userspace driver's addresses are the application's to configure. */
		if (cont_ifindex && (r = ipcfg_apply(&s.cont, s.nsfd, cont_ifindex, ifname, li.maclen == 6 ? li.mac : NULL, ipam, 0)) < 0)
			goto out;
		if (fault("sriov.addresses")) {
			r = -EIO;
			goto out;
		}
	}

	if ((r = sriov_devinfo_write(&s, &devinfo)) < 0)
		goto out;
	if (fault("sriov.devinfo")) {
		r = -EIO;
		goto out;
	}

	const unsigned char *m = cont_ifindex ? li.mac : s.c.has_mac ? s.c.mac : s.orig.pf[0] ? s.orig.vf.mac : NULL;
	if (m)
		format_mac(m, mac);
	struct plugin_iface iface = {.name = ifname,
				     .mac = m && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) ? mac : NULL,
				     .mtu = cont_ifindex ? (int)li.mtu : 0,
				     .pci_id = s.pci};
	if ((r = plugin_add_result(ctx, &iface, ipam, false, ret)) < 0)
		goto out;
	log_info("ADD %s: VF %s (%s) as %s in %s", ctx->env.containerid, s.pci, s.dev.driver, ifname, ctx->env.netns);
	r = 0;
out:
	if (r < 0) {
		/* Undo in reverse; the first error stays the one reported. A kill here
		 * (FAULTS=1 builds) leaves what DEL must undo from the record. */
		(void)FAULT("sriov.rollback");
		if (devinfo)
			sriov_devinfo_remove("ADD", s.c.devinfo_file, ctx->env.containerid);
		if (ipam_done)
			ipam_forward(ctx, CNI_DEL);
		if (saved) {
			int rr = sriov_vf_restore(&s, &s.orig, s.pci, cont_ifindex ? &s.cont : NULL, cont_ifindex, NULL);
			if (rr < 0)
				log_error("ADD %s: rollback of VF %s incomplete; the record keeps its saved state",
					  ctx->env.containerid, s.pci);
			else
				saved = false;
		}
		/* A VF that could not be put back keeps its record: DEL or GC retries. */
		if (claimed && !saved)
			dm_store_drop(s.store, s.pci, ctx->env.containerid, ifname, DM_DROP_RESTORED);
	}
	cni_result_free(ipam);
	sr_free(&s);
	return r;
}

/* ---- DEL ---- */

static int sriov_del(struct cni_ctx *ctx)
{
	struct sr s;
	dm_record *rec = NULL;
	int r;

	sr_init(&s, ctx);
	if ((r = sriov_conf_parse(&s)) < 0)
		goto out;
	/* IPAM first: if it fails the runtime retries DEL and finds the VF still attached. */
	if (ctx->conf.ipam_type && (r = ipam_forward(ctx, CNI_DEL)) < 0)
		goto out;
	if ((r = open_host(&s)) < 0 || (r = sriov_open_store(&s)) < 0)
		goto out;
	/* By address: the record is read once, under the VF's lock. */
	if (s.c.device_id) {
		r = sriov_detach(&s, s.c.pci, ctx->env.containerid, ctx->env.ifname, ctx->env.netns);
		goto out;
	}
	if ((r = sriov_find_record(&s, &rec)) < 0) {
		cni_fail(CNI_ERR_IO, r, "reading the VF allocation store failed");
		goto out;
	}
	if (!rec) {
		log_info("DEL %s: no VF attached as %s", ctx->env.containerid, ctx->env.ifname);
		goto out;
	}
	r = sriov_detach(&s, rec->pci, ctx->env.containerid, ctx->env.ifname, ctx->env.netns);
out:
	dm_record_free(rec);
	sr_free(&s);
	return r;
}

/* ---- CHECK ---- */

/* What CHECK looks at besides the container: a plugin_check_begin hook. */
static int open_host_store(void *p)
{
	struct sr *s = p;
	int r = open_host(s);
	return r < 0 ? r : sriov_open_store(s);
}

static int sriov_check(struct cni_ctx *ctx)
{
	struct sr s;
	dm_record *rec = NULL;
	dm_vf_state o;
	struct link_info li;
	const struct cni_result *prev = ctx->conf.prev;
	const char *ifname = ctx->env.ifname;
	int r, idx = -1;

	sr_init(&s, ctx);
	if ((r = sriov_conf_parse(&s)) < 0)
		goto out;
	/* a userspace-driver VF's interface has no sandbox in the result */
	if ((r = plugin_check_begin(ctx, false, &s.nsfd, &s.cont, open_host_store, &s, &idx)) < 0)
		goto out;
	if ((r = sriov_find_record(&s, &rec)) < 0) {
		cni_fail(CNI_ERR_IO, r, "reading the VF allocation store failed");
		goto out;
	}
	r = -EINVAL;
	if (!sriov_owned_by(rec, ctx->env.containerid, ifname)) {
		cni_fail(CNI_ERR_DEVICE, -ENOENT, "CHECK: no VF is allocated to %s as %s", ctx->env.containerid, ifname);
		goto out;
	}
	memcpy(s.pci, rec->pci, sizeof(s.pci));
	if (prev->ifaces[idx].pci_id && strcmp(prev->ifaces[idx].pci_id, s.pci) != 0) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: prevResult names VF %s, the allocation is %s", prev->ifaces[idx].pci_id,
			 s.pci);
		goto out;
	}
	if (!sriov_record_state(rec, &o)) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: VF %s has no saved state", s.pci);
		goto out;
	}
	if ((r = sriov_vf_check(&s, &o)) < 0)
		goto out;
	if (!o.netdev[0]) { /* userspace driver: nothing in the sandbox to look at */
		r = 0;
		goto out;
	}
	r = link_get_by_name(&s.cont, ifname, &li);
	if (r < 0) {
		cni_fail(r == -ENODEV ? CNI_ERR_DEVICE : CNI_ERR_KERNEL, r, "CHECK: interface \"%s\" is not in the container",
			 ifname);
		goto out;
	}
	r = -EINVAL;
	if (!sriov_link_is_vf(&li, s.pci)) {
		cni_fail(CNI_ERR_DEVICE, r, "CHECK: \"%s\" is %s, not VF %s", ifname, li.parent_dev, s.pci);
		goto out;
	}
	if ((r = ipcfg_verify_link(&li, ifname, prev->ifaces[idx].mac, s.c.mtu)) < 0)
		goto out;
	if (s.c.has_mac && memcmp(li.mac, s.c.mac, 6) != 0) {
		char mac[18];
		format_mac(li.mac, mac);
		r = cni_fail(CNI_ERR_DEVICE, -EINVAL, "CHECK: \"%s\" has MAC %s, the config asks for another", ifname,
			     mac);
		goto out;
	}
	r = ipcfg_verify(&s.cont, li.ifindex, ifname, prev, idx);
out:
	dm_record_free(rec);
	sr_free(&s);
	return r;
}

/* ---- STATUS and GC ---- */

static int sriov_status(struct cni_ctx *ctx)
{
	struct sr s;
	int r;
	sr_init(&s, ctx);
	if ((r = sriov_conf_parse(&s)) < 0)
		goto out;
	if (s.c.device_id) {
		dm_device d;
		r = dm_device_lookup(s.sysfs, s.c.pci, &d);
		if (r < 0 || d.role != DM_ROLE_VF || (d.health & DM_UNHEALTHY_PF_GONE)) {
			r = cni_fail(CNI_ERR_NOT_AVAILABLE, r < 0 ? r : -ENODEV, "VF %s or its PF is not present", s.c.pci);
			goto out;
		}
	} else if (s.c.pool) {
		dm_config *cfg = NULL;
		dm_inventory *inv = NULL;
		size_t n = 0;
		if ((r = sriov_pool_config_load(&s, &cfg)) < 0)
			goto out;
		if ((r = dm_inventory_load(s.sysfs, 0, &inv)) >= 0) {
			int pidx = dm_config_pool_index(cfg, s.c.pool);
			for (size_t i = 0; pidx >= 0 && i < dm_inventory_count(inv); i++) {
				const dm_device *d = dm_inventory_get(inv, i);
				n += d->role == DM_ROLE_VF && !(d->health & DM_UNHEALTHY_PF_GONE) &&
				     dm_config_match(cfg, d) == pidx;
			}
		}
		dm_inventory_free(inv);
		dm_config_free(cfg);
		if (n == 0) {
			r = cni_fail(CNI_ERR_NOT_AVAILABLE, r < 0 ? r : -ENODEV, "pool \"%s\" has no VF with a present PF",
				     s.c.pool);
			goto out;
		}
	}
	r = ctx->conf.ipam_type ? ipam_forward(ctx, CNI_STATUS) : 0;
out:
	sr_free(&s);
	return r;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool attachment_valid(const cJSON *valid, const char *id, const char *ifname)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, valid)
	{
		const char *c = str(a, "containerID"), *i = str(a, "ifname");
		if (c && strcmp(c, id) == 0 && (!ifname || !i || strcmp(i, ifname) == 0))
			return true;
	}
	return false;
}

static int sriov_gc(struct cni_ctx *ctx)
{
	struct sr s;
	dm_record **list = NULL;
	size_t n = 0;
	int r, first = 0;
	const cJSON *valid = cJSON_GetObjectItemCaseSensitive(ctx->conf.root, "cni.dev/valid-attachments");

	sr_init(&s, ctx);
	if ((r = sriov_conf_parse(&s)) < 0)
		goto out;
	if (!valid) {
		/* Without the list every attachment would look invalid: collect nothing. */
		log_warn("GC without \"cni.dev/valid-attachments\": no VF released");
		r = ctx->conf.ipam_type ? ipam_forward(ctx, CNI_GC) : 0;
		goto out;
	}
	if (!cJSON_IsArray(valid)) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"cni.dev/valid-attachments\" must be a list");
		goto out;
	}
	if ((r = open_host(&s)) < 0 || (r = sriov_open_store(&s)) < 0)
		goto out;
	if ((r = dm_store_list(s.store, &list, NULL, &n)) < 0) {
		cni_fail(CNI_ERR_IO, r, "reading the VF allocation store failed");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dm_vf_state o;
		dm_record *rec = list[i];
		/* Only this network's attachments: the valid list names no others. */
		if (!rec->owner || !sriov_record_state(rec, &o) || !ctx->conf.name ||
		    strcmp(o.network, ctx->conf.name) != 0 || attachment_valid(valid, rec->owner, rec->ifname))
			continue;
		log_info("GC: VF %s of %s/%s is not a valid attachment", rec->pci, rec->owner, rec->ifname ? rec->ifname : "-");
		r = sriov_detach(&s, rec->pci, rec->owner, rec->ifname ? rec->ifname : "", NULL);
		if (r < 0 && !first)
			first = r;
	}
	r = first;
	if (r == 0 && ctx->conf.ipam_type)
		r = ipam_forward(ctx, CNI_GC);
out:
	dm_record_list_free(list, n);
	sr_free(&s);
	return r;
}

#ifdef UCNI_FUZZ
/* The config parser alone, for tests/fuzz/fuzz_conf.c. */
int sriov_fuzz_parse(struct cni_ctx *ctx);
int sriov_fuzz_parse(struct cni_ctx *ctx)
{
	struct sr s;
	sr_init(&s, ctx);
	int r = sriov_conf_parse(&s);
	sr_free(&s);
	return r;
}
#else
int main(void)
{
	static const struct cni_plugin p = {
		.name = "sriov",
		.about = "ucni sriov CNI plugin",
		.known_args = cni_common_args,
		.add = sriov_add,
		.del = sriov_del,
		.check = sriov_check,
		.status = sriov_status,
		.gc = sriov_gc,
	};
	return cni_main(&p);
}
#endif

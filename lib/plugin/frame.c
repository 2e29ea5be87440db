/* The plugin frame: what every plugin's CHECK does first, and how every ADD answers. */
#include <errno.h>
#include <string.h>

#include "ucni/ipam.h"
#include "ucni/plugin.h"

int plugin_netns_open(const struct cni_ctx *ctx, int *ret_nsfd, struct nlsk *ret_sk)
{
	int r = cni_netns_open(&ctx->env, ret_nsfd);
	if (r < 0)
		return r;
	if ((r = nlsk_open_in(ret_sk, *ret_nsfd)) < 0)
		return cni_fail(CNI_ERR_INTERNAL, r, "cannot open a netlink socket in %s", ctx->env.netns);
	return 0;
}

int plugin_check_begin(const struct cni_ctx *ctx, bool in_sandbox, int *ret_nsfd, struct nlsk *ret_sk,
		       int (*open)(void *arg), void *arg, int *ret_idx)
{
	int r;
	if ((r = cni_prev_iface(ctx, in_sandbox, ret_idx)) < 0 || (r = plugin_netns_open(ctx, ret_nsfd, ret_sk)) < 0)
		return r;
	if (open && (r = open(arg)) < 0)
		return r;
	return ctx->conf.ipam_type ? ipam_forward(ctx, CNI_CHECK) : 0;
}

int plugin_add_result(const struct cni_ctx *ctx, const struct plugin_iface *iface, const struct cni_result *ipam,
		      bool adopt, cJSON **ret)
{
	struct cni_result *res = ctx->conf.prev ? cni_result_dup(ctx->conf.prev) : cni_result_new();
	int idx, r = -ENOMEM;
	if (!res)
		goto out;
	idx = cni_result_add_iface(res, iface->name, iface->mac, ctx->env.netns, iface->mtu);
	if (idx < 0 || (iface->pci_id && !(res->ifaces[idx].pci_id = strdup(iface->pci_id))) ||
	    (ipam && cni_result_merge(res, ipam, idx) < 0))
		goto out;
	for (size_t i = 0; adopt && i < res->n_ips; i++)
		if (res->ips[i].iface < 0)
			res->ips[i].iface = idx;
	if (ctx->conf.dns && cJSON_GetArraySize(ctx->conf.dns) > 0) {
		cJSON_Delete(res->dns);
		res->dns = cJSON_Duplicate(ctx->conf.dns, true);
	}
	*ret = cni_result_to_json(res, ctx->conf.version);
	r = 0;
out:
	cni_result_free(res);
	return r < 0 ? cni_fail(CNI_ERR_INTERNAL, r, "out of memory") : 0;
}

/* VF settings as the PF reports them: RTM_GETLINK of the PF with RTEXT_FILTER_VF. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

#include "internal.h"

static int nl_to_errno(int e)
{
	switch (-e) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NODEV: return -ENODEV;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	default: return -EIO;
	}
}

static void parse_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_link **out = arg;
	if (!*out) {
		nl_object_get(obj);
		*out = (struct rtnl_link *)obj;
	}
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	(void)nl_msg_parse(msg, parse_cb, arg);
	return NL_OK;
}

/* One RTM_GETLINK for NAME with the VF info; the caller puts the link. */
static int get_pf_link(const char *name, struct rtnl_link **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	struct rtnl_link *link = NULL;
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		goto out;
	/* a GET is answered by the link or an error; no ACK to wait for */
	nl_socket_disable_auto_ack(sk);
	r = rtnl_link_build_get_request(0, name, &msg);
	if (r < 0)
		goto out;
	if (!nlmsg_find_attr(nlmsg_hdr(msg), sizeof(struct ifinfomsg), IFLA_EXT_MASK)) {
		r = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_VF);
		if (r < 0)
			goto out;
	}
	r = nl_send_auto(sk, msg);
	if (r < 0)
		goto out;
	r = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &link);
	if (r < 0)
		goto out;
	r = nl_recvmsgs_default(sk);
	if (r < 0)
		goto out;
	if (!link) {
		r = -NLE_OBJ_NOTFOUND;
		goto out;
	}
	*ret = link;
	link = NULL;
	r = 0;
out:
	if (link)
		rtnl_link_put(link);
	nlmsg_free(msg);
	nl_socket_free(sk);
	return r < 0 ? nl_to_errno(r) : 0;
}

static void fill_vf(struct rtnl_link *link, int index, dm_vf_config *c)
{
	struct rtnl_link_vf *vf = rtnl_link_vf_get(link, (uint32_t)index);
	uint32_t v;
	if (!vf)
		return;
	memset(c, 0, sizeof(*c));
	c->spoofchk = c->trust = c->link_state = -1;
	c->valid = true;
	struct nl_addr *addr = NULL;
	if (rtnl_link_vf_get_addr(vf, &addr) >= 0 && addr)
		nl_addr2str(addr, c->mac, sizeof(c->mac));
	nl_vf_vlans_t *vlans = NULL;
	if (rtnl_link_vf_get_vlans(vf, &vlans) >= 0 && vlans && vlans->size > 0) {
		c->vlan = (uint16_t)vlans->vlans[0].vf_vlan;
		c->qos = (uint8_t)vlans->vlans[0].vf_vlan_qos;
		c->vlan_proto = vlans->vlans[0].vf_vlan_proto;
	}
	if (!c->vlan_proto)
		c->vlan_proto = 0x8100;
	if (rtnl_link_vf_get_spoofchk(vf, &v) >= 0)
		c->spoofchk = v != 0;
	if (rtnl_link_vf_get_trust(vf, &v) >= 0)
		c->trust = v != 0;
	if (rtnl_link_vf_get_linkstate(vf, &v) >= 0)
		c->link_state = (int)v;
	struct nl_vf_rate rate = { 0 };
	if (rtnl_link_vf_get_rate(vf, &rate) >= 0) {
		c->min_tx_rate = rate.min_tx_rate;
		c->max_tx_rate = rate.max_tx_rate ? rate.max_tx_rate : rate.rate;
	}
	rtnl_link_vf_put(vf);
}

int dm_vf_config_query(const char *pf_netdev, int vf_index, dm_vf_config *ret)
{
	struct rtnl_link *link = NULL;
	dm_vf_config c = { 0 };
	if (!dm_ifname_valid(pf_netdev) || vf_index < 0 || !ret)
		return -EINVAL;
	int r = get_pf_link(pf_netdev, &link);
	if (r < 0)
		return r;
	fill_vf(link, vf_index, &c);
	rtnl_link_put(link);
	if (!c.valid)
		return -ENOENT;
	*ret = c;
	return 0;
}

int vf_config_query_all(dm_device *pf)
{
	struct rtnl_link *link = NULL;
	int r = get_pf_link(pf->netdev, &link);
	if (r < 0)
		return r;
	for (size_t i = 0; i < pf->n_vfs; i++)
		if (pf->vfs[i])
			fill_vf(link, (int)i, &pf->vfs[i]->vf_config);
	rtnl_link_put(link);
	return 0;
}

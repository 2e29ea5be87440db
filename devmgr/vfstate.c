/* A VF's saved state — the allocation record's data, its one format — and the restore
 * that puts a VF back as saved, or to the baseline when nothing is saved (with, as the
 * record goes, the device-info file the state names). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <linux/if.h>

#include "internal.h"
#include "ucni/devinfo.h"

#define STATE_FORMAT 1
#define NETDEV_WAIT_MS 10000

/* ------------------------------------------------------------ the format */

void mac_format(const unsigned char *m, char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* exactly "xx:xx:xx:xx:xx:xx" */
bool mac_parse(const char *s, unsigned char ret[6])
{
	unsigned char m[6];
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[i * 3 + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return false;
		}
		if (i < 5 && s[i * 3 + 2] != ':')
			return false;
		m[i] = (unsigned char)v;
	}
	memcpy(ret, m, 6);
	return true;
}

/* A whole number in [MIN, MAX], and nothing else. */
static bool get_int(const cJSON *o, const char *k, double min, double max, long long *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!(d >= min && d <= max) || d != (double)(long long)d)
		return false;
	*ret = (long long)d;
	return true;
}

static bool get_str(const cJSON *o, const char *k, const char **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsString(v) || !v->valuestring)
		return false;
	*ret = v->valuestring;
	return true;
}

/* Only the members named in KEYS (NULL-terminated). */
static bool only_keys(const cJSON *o, const char *const *keys)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, o)
	{
		bool known = false;
		for (const char *const *k = keys; *k && !known; k++)
			known = c->string && !strcmp(c->string, *k);
		if (!known)
			return false;
	}
	return true;
}

static bool parse_vf(const cJSON *vf, dm_vf_state *st)
{
	static const char *const keys[] = { "pf", "index", "mac", "vlan", "qos", "vlanProto", "spoofchk",
		                            "trust", "linkState", "minTxRate", "maxTxRate", NULL };
	const char *pf, *mac;
	long long idx, vlan, qos, proto, spoof, trust, ls, min = 0, max = 0;
	dm_vf_settings *v = &st->vf;
	if (!cJSON_IsObject(vf) || !only_keys(vf, keys) || !get_str(vf, "pf", &pf) || !dm_ifname_valid(pf) ||
	    !get_int(vf, "index", 0, DM_VF_INDEX_MAX - 1, &idx) || !get_str(vf, "mac", &mac) || !mac_parse(mac, v->mac) ||
	    !get_int(vf, "vlan", 0, 4094, &vlan) || !get_int(vf, "qos", 0, 7, &qos) ||
	    !get_int(vf, "vlanProto", 0, 0xffff, &proto) || !get_int(vf, "spoofchk", -1, 1, &spoof) ||
	    !get_int(vf, "trust", -1, 1, &trust) || !get_int(vf, "linkState", -1, DM_VF_LINK_DISABLE, &ls))
		return false;
	if ((proto != DM_VF_PROTO_8021Q && proto != DM_VF_PROTO_8021AD) || (qos && !vlan))
		return false;
	bool has_min = cJSON_HasObjectItem(vf, "minTxRate"), has_max = cJSON_HasObjectItem(vf, "maxTxRate");
	if (has_min != has_max || (has_min && (!get_int(vf, "minTxRate", 0, UINT32_MAX, &min) ||
	                                       !get_int(vf, "maxTxRate", 0, UINT32_MAX, &max))))
		return false;
	str_copy(st->pf, sizeof(st->pf), pf);
	v->index = (int)idx;
	v->vlan = (uint16_t)vlan;
	v->qos = (uint8_t)qos;
	v->vlan_proto = (uint16_t)proto;
	v->spoofchk = (int)spoof;
	v->trust = (int)trust;
	v->link_state = (int)ls;
	v->has_rate = has_min;
	v->min_tx_rate = (uint32_t)min;
	v->max_tx_rate = (uint32_t)max;
	return true;
}

int dm_vf_state_parse(const char *json, dm_vf_state *ret)
{
	static const char *const keys[] = { "format", "network", "netdev", "ifindex", "mac", "mtu", "up", "vf",
		                            "deviceInfoFile", NULL };
	dm_vf_state st;
	const char *network = "", *netdev, *mac, *devinfo;
	long long fmt, ifindex, mtu;
	bool ok = false;
	if (!json || !ret)
		return -EINVAL;
	cJSON *j = cJSON_Parse(json);
	memset(&st, 0, sizeof(st));
	if (!cJSON_IsObject(j) || !only_keys(j, keys) || !get_int(j, "format", STATE_FORMAT, STATE_FORMAT, &fmt))
		goto out;
	if (cJSON_HasObjectItem(j, "network") && (!get_str(j, "network", &network) || strlen(network) >= sizeof(st.network)))
		goto out;
	str_copy(st.network, sizeof(st.network), network);
	if (cJSON_HasObjectItem(j, "netdev")) {
		const cJSON *up = cJSON_GetObjectItemCaseSensitive(j, "up");
		if (!get_str(j, "netdev", &netdev) || !dm_ifname_valid(netdev) || !get_int(j, "ifindex", 1, INT_MAX, &ifindex) ||
		    !get_str(j, "mac", &mac) || !mac_parse(mac, st.mac) || !get_int(j, "mtu", 0, 65535, &mtu) ||
		    (mtu && mtu < 68) || !cJSON_IsBool(up))
			goto out;
		str_copy(st.netdev, sizeof(st.netdev), netdev);
		st.ifindex = (int)ifindex;
		st.mtu = (unsigned)mtu;
		st.up = cJSON_IsTrue(up);
	} else if (cJSON_HasObjectItem(j, "ifindex") || cJSON_HasObjectItem(j, "mac") || cJSON_HasObjectItem(j, "mtu") ||
	           cJSON_HasObjectItem(j, "up"))
		goto out;
	if (cJSON_HasObjectItem(j, "vf") && !parse_vf(cJSON_GetObjectItemCaseSensitive(j, "vf"), &st))
		goto out;
	if (cJSON_HasObjectItem(j, "deviceInfoFile")) {
		if (!get_str(j, "deviceInfoFile", &devinfo) || devinfo[0] != '/' || strlen(devinfo) >= sizeof(st.devinfo_file))
			goto out;
		str_copy(st.devinfo_file, sizeof(st.devinfo_file), devinfo);
	}
	ok = true;
out:
	cJSON_Delete(j);
	if (!ok)
		return -EBADMSG;
	*ret = st;
	return 0;
}

char *dm_vf_state_format(const dm_vf_state *o)
{
	char mac[18];
	if (!o) {
		errno = EINVAL;
		return NULL;
	}
	cJSON *j = cJSON_CreateObject(), *vf;
	if (!j) {
		errno = ENOMEM;
		return NULL;
	}
	cJSON_AddNumberToObject(j, "format", STATE_FORMAT);
	cJSON_AddStringToObject(j, "network", o->network);
	if (o->netdev[0]) {
		mac_format(o->mac, mac);
		cJSON_AddStringToObject(j, "netdev", o->netdev);
		cJSON_AddNumberToObject(j, "ifindex", o->ifindex);
		cJSON_AddStringToObject(j, "mac", mac);
		cJSON_AddNumberToObject(j, "mtu", o->mtu);
		cJSON_AddBoolToObject(j, "up", o->up);
	}
	if (o->pf[0] && (vf = cJSON_AddObjectToObject(j, "vf"))) {
		const dm_vf_settings *v = &o->vf;
		mac_format(v->mac, mac);
		cJSON_AddStringToObject(vf, "pf", o->pf);
		cJSON_AddNumberToObject(vf, "index", v->index);
		cJSON_AddStringToObject(vf, "mac", mac);
		cJSON_AddNumberToObject(vf, "vlan", v->vlan);
		cJSON_AddNumberToObject(vf, "qos", v->qos);
		cJSON_AddNumberToObject(vf, "vlanProto", v->vlan_proto ? v->vlan_proto : DM_VF_PROTO_8021Q);
		cJSON_AddNumberToObject(vf, "spoofchk", v->spoofchk);
		cJSON_AddNumberToObject(vf, "trust", v->trust);
		cJSON_AddNumberToObject(vf, "linkState", v->link_state);
		if (v->has_rate) {
			cJSON_AddNumberToObject(vf, "minTxRate", v->min_tx_rate);
			cJSON_AddNumberToObject(vf, "maxTxRate", v->max_tx_rate);
		}
	}
	if (o->devinfo_file[0])
		cJSON_AddStringToObject(j, "deviceInfoFile", o->devinfo_file);
	char *txt = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!txt) {
		errno = ENOMEM;
		return NULL;
	}
	/* what cannot be read back must not be written */
	dm_vf_state back;
	if (dm_vf_state_parse(txt, &back) < 0) {
		free(txt);
		errno = EINVAL;
		return NULL;
	}
	return txt;
}

bool dm_data_is_vf_state(const char *data)
{
	if (!data)
		return false;
	cJSON *j = cJSON_Parse(data);
	bool is = cJSON_IsObject(j) && cJSON_HasObjectItem(j, "format");
	cJSON_Delete(j);
	return is;
}

/* ----------------------------------------------------------- the restore */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Is L the netdev of PCI? A kernel that reports the parent device must name PCI; one that
 * does not (older kernels, the test suites' veths) is taken at its word when STRICT is off. */
static bool link_is(const nl_link_info *l, const char *pci, bool strict)
{
	return l->parent_dev[0] ? !strcmp(l->parent_dev, pci) : !strict;
}

/* The VF netdev in the caller's namespace: by the name sysfs shows, then by the saved ifindex. */
static int find_netdev(const char *sysfs_root, const char *pci, const dm_vf_state *saved, nl_link_info *ret)
{
	dm_device d;
	if (dm_vf_lookup(sysfs_root, pci, &d) == 0 && d.netdev[0] && vf_link_get(0, d.netdev, ret) == 0 &&
	    link_is(ret, pci, false))
		return 0;
	if (saved && saved->ifindex > 0 && vf_link_get(saved->ifindex, NULL, ret) == 0 && link_is(ret, pci, true))
		return 0;
	return -ENODEV;
}

/* Does the VF have a kernel network driver (and so a netdev somewhere)? */
static bool netdev_expected(const char *sysfs_root, const char *pci)
{
	dm_device d;
	return dm_device_lookup(sysfs_root, pci, &d) == 0 && d.role == DM_ROLE_VF && d.driver[0] && !d.userspace_driver;
}

static void what(dm_restore_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void what(dm_restore_report *rep, const char *fmt, ...)
{
	va_list ap;
	if (rep->what[0])
		return;
	va_start(ap, fmt);
	vsnprintf(rep->what, sizeof(rep->what), fmt, ap);
	va_end(ap);
}

/* A function-level reset of a VF a userspace driver holds, where the device offers one. */
static int flr(const char *sysfs_root, const char *pci, dm_restore_report *rep)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/reset", sysfs_root, pci);
	int e = write_small_at(AT_FDCWD, path, "1");
	if (e == -ENOENT)
		return 0;
	if (e == 0)
		rep->reset = true;
	else
		what(rep, "VF %s: function-level reset failed: %s", pci, strerror(-e));
	return e;
}

/* Every VF setting that differs from TARGET, one request each. OWN_MAC: the netdev's
 * MAC, which some drivers (igb) report as the VF's MAC although nobody set one. */
static int restore_settings(const char *pci, const char *pf, const dm_vf_settings *target, bool baseline,
                            const unsigned char *own_mac, dm_restore_report *rep)
{
	dm_vf_settings cur;
	char buf[96];
	int e = dm_vf_get(pf, target->index, &cur), first = 0;
	if (e < 0)
		return e == -ENOENT || e == -ENODEV ? -ENODEV : e;
	for (int a = 0; a < DM_VF_ATTR_COUNT; a++) {
		dm_vf_settings w = *target;
		w.index = target->index;
		if (a == DM_VF_MAC && baseline && own_mac && !memcmp(cur.mac, own_mac, 6))
			continue; /* the VF's own MAC, not an administrative one */
		if ((a == DM_VF_SPOOFCHK && (w.spoofchk < 0 || cur.spoofchk < 0)) ||
		    (a == DM_VF_TRUST && (w.trust < 0 || cur.trust < 0)) ||
		    (a == DM_VF_LINK_STATE && (w.link_state < 0 || cur.link_state < 0)) ||
		    (a == DM_VF_RATE && (!w.has_rate || !cur.has_rate)))
			continue; /* not reported: left alone */
		if (!dm_vf_attr_differs(a, &cur, &w))
			continue;
		/* A saved MAC that is the netdev's own: clearing the administrative MAC gives
		 * it back to the VF (writing it would lock the VF to it). */
		if (a == DM_VF_MAC && !baseline && own_mac && !memcmp(w.mac, own_mac, 6))
			memset(w.mac, 0, 6);
		e = dm_vf_set(pf, a, &w);
		rep->written |= 1u << a;
		if (e < 0) {
			static const unsigned char zero[6];
			rep->refused |= 1u << a;
			rep->errors[a] = e;
			if (a == DM_VF_MAC && !memcmp(w.mac, zero, 6)) {
				rep->tolerated |= 1u << a; /* the driver keeps an administrative MAC */
				continue;
			}
			what(rep, "VF %d of PF %s (%s): the driver refused %s: %s", w.index, pf, pci,
			     dm_vf_attr_describe(a, &w, buf, sizeof(buf)), strerror(-e));
			if (!first)
				first = e;
		}
	}
	return first;
}

/* The netdev L (in the caller's namespace) gets its saved name, MTU, MAC and state. */
static int restore_netdev(const char *pci, const dm_vf_state *o, const nl_link_info *l, dm_restore_report *rep)
{
	static const unsigned char zero[6];
	bool up = (l->flags & IFF_UP) != 0;
	bool mac = l->has_mac && memcmp(l->mac, o->mac, 6) && memcmp(o->mac, zero, 6);
	const char *name = strcmp(l->name, o->netdev) ? o->netdev : NULL;
	unsigned mtu = o->mtu && l->mtu != o->mtu ? o->mtu : 0;
	int down = up && (!o->up || name || mac) ? 0 : -1, e;
	if (name || mtu || down == 0) {
		e = vf_link_change(l->ifindex, name, mtu, NULL, down);
		if (e < 0 && name) /* the old name is taken meanwhile: keep the current one */
			e = mtu || down == 0 ? vf_link_change(l->ifindex, NULL, mtu, NULL, down) : 0;
		if (e < 0) {
			what(rep, "VF %s: restoring netdev %s (mtu %u) failed: %s", pci, o->netdev, o->mtu, strerror(-e));
			return e;
		}
		if (down == 0)
			up = false;
	}
	if (mac && (e = vf_link_change(l->ifindex, NULL, 0, o->mac, -1)) < 0) {
		char m[18];
		mac_format(o->mac, m);
		what(rep, "VF %s: restoring MAC %s on %s failed: %s", pci, m, o->netdev, strerror(-e));
		return e;
	}
	if (o->up && !up && (e = vf_link_change(l->ifindex, NULL, 0, NULL, 1)) < 0) {
		what(rep, "VF %s: bringing %s up failed: %s", pci, o->netdev, strerror(-e));
		return e;
	}
	rep->netdev_restored = true;
	return 0;
}

int dm_vf_restore(const char *sysfs_root, const char *pci, const dm_vf_state *saved, int ifindex, unsigned flags,
                  dm_restore_report *ret)
{
	char addr[DM_PCI_ADDR_MAX];
	dm_restore_report rep;
	dm_device d;
	nl_link_info l;
	bool have_link = false, have_dev = false;
	int e, first = 0;

	memset(&rep, 0, sizeof(rep));
	if (ret)
		*ret = rep; /* also on the early return */
	if (!sysfs_root || dm_pci_addr_normalize(pci, addr) < 0)
		return -EINVAL;
	const char *root = sysfs_root;

	/* The netdev first: without it nothing is changed (a netns teardown still returning
	 * it, or a live container still holding it). */
	if (ifindex > 0) {
		if ((e = vf_link_get(ifindex, NULL, &l)) < 0) {
			what(&rep, "VF %s: its netdev (ifindex %d) is gone", addr, ifindex);
			first = e;
			goto out;
		}
		have_link = true;
	} else if (saved && saved->netdev[0]) {
		int waited = 0;
		while (!(have_link = find_netdev(root, addr, saved, &l) == 0) && (flags & DM_RESTORE_WAIT_NETDEV) &&
		       waited < NETDEV_WAIT_MS && netdev_expected(root, addr)) {
			sleep_ms(100);
			waited += 100;
		}
		if (!have_link && netdev_expected(root, addr)) {
			what(&rep, "VF %s: its netdev is not in this network namespace (its container still holds it, "
			     "or the netns teardown is still running)", addr);
			first = -EAGAIN;
			goto out;
		}
	}

	/* Userspace-driver VFs: a function-level reset. */
	if (!saved || !saved->netdev[0] || !have_link) {
		have_dev = dm_vf_lookup(root, addr, &d) == 0 || dm_device_lookup(root, addr, &d) == 0;
		if (have_dev && d.userspace_driver && (e = flr(root, addr, &rep)) < 0 && !first)
			first = e;
	}

	/* VF settings through the PF. */
	dm_vf_settings target;
	const char *pf = NULL;
	if (saved && saved->pf[0]) {
		pf = saved->pf;
		target = saved->vf;
	} else if (!saved) {
		if (!have_dev)
			have_dev = dm_vf_lookup(root, addr, &d) == 0 || dm_device_lookup(root, addr, &d) == 0;
		if (have_dev && d.role == DM_ROLE_VF && d.pf_netdev[0] && d.vf_index >= 0) {
			pf = d.pf_netdev;
			dm_vf_baseline(d.vf_index, &target);
		}
	}
	if (pf) {
		/* the VF's own MAC: as saved (a restore), or as its netdev has it now (the baseline) */
		const unsigned char *own = saved && saved->netdev[0] ? saved->mac : have_link && l.has_mac ? l.mac : NULL;
		e = restore_settings(addr, pf, &target, !(saved && saved->pf[0]), own, &rep);
		if (e < 0 && e != -ENODEV && !first)
			first = e;
	}

	/* The netdev: the settings may have changed what it shows (its MAC): read it again. */
	if (have_link && saved && saved->netdev[0]) {
		if (rep.written && (e = vf_link_get(l.ifindex, NULL, &l)) < 0) {
			what(&rep, "VF %s: its netdev (ifindex %d) vanished", addr, l.ifindex);
			if (!first)
				first = e;
		} else if ((e = restore_netdev(addr, saved, &l, &rep)) < 0 && !first)
			first = e;
	}
	if (have_link)
		rep.ifindex = l.ifindex;
out:
	if (ret)
		*ret = rep;
	return first;
}

int vf_restore_record(const char *sysfs_root, const dm_record *rec, unsigned flags, dm_restore_report *ret)
{
	dm_vf_state st;
	bool saved = rec->data && dm_data_is_vf_state(rec->data) && dm_vf_state_parse(rec->data, &st) == 0;
	int e = dm_vf_restore(sysfs_root, rec->pci, saved ? &st : NULL, 0, flags & DM_RESTORE_WAIT_NETDEV, ret);
	return e == -ENODEV ? 0 : e; /* the VF or its PF is gone: nothing left to restore */
}

int vf_record_devinfo_remove(const dm_record *rec, dm_restore_report *rep)
{
	dm_vf_state st;
	const char *why = NULL;
	if (!rec->data || !dm_data_is_vf_state(rec->data) || dm_vf_state_parse(rec->data, &st) < 0 ||
	    !st.devinfo_file[0])
		return 0;
	/* only a file ADD created is named (one it merged into is not): it ends with the record */
	int e = devinfo_remove(st.devinfo_file, &why);
	str_copy(rep->devinfo_file, sizeof(rep->devinfo_file), st.devinfo_file);
	rep->devinfo = e;
	if (e < 0)
		str_copy(rep->devinfo_why, sizeof(rep->devinfo_why), why ? why : strerror(-e));
	return e;
}

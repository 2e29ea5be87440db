/* Stacked links (macvlan, ipvlan): one ADD/DEL/CHECK/STATUS/GC sequence for
 * every kind; a kind contributes its config keys and netlink attributes. */
#pragma once

#include <stdbool.h>
#include "ucni/cni.h"
#include "ucni/nl.h"

/* The keys every stacked kind shares. */
struct stacked_conf {
	const char *master; /* NULL: default-route interface (or prevResult's) */
	unsigned int mtu;   /* 0: inherit the master's */
	bool has_mac;
	unsigned char mac[6];
	bool link_in_container;
	void *kind; /* the kind's own parsed keys (kind->conf_size bytes) */
};

/* What the ADD hooks see of the invocation in progress. */
struct stacked_add {
	const struct cni_ctx *ctx;
	const struct link_info *master;
	struct nlsk *master_sk; /* a socket in the master's namespace */
	int master_nsfd;        /* the master's namespace (host, or the container's) */
	int nsfd;               /* the container's namespace */
};

struct link_kind {
	const char *kind;   /* rtnetlink kind, also the plugin's name */
	const char *about;  /* text printed when CNI_COMMAND is unset */
	size_t conf_size;
	/* Accept the `mac` key / CNI_ARGS MAC / runtimeConfig mac. */
	bool supports_mac;
	/* Without `master`, use prevResult's single container interface. */
	bool master_from_prev_result;
	/* Parse the kind's keys from ctx->conf.root into kconf. */
	int (*parse)(const struct cni_ctx *ctx, void *kconf);
	/* Put the IFLA_INFO_DATA attributes for a new link. */
	int (*fill_info_data)(const void *kconf, struct nl_msg *msg);
	/* Optional: refuse a master that cannot take this link (before any change). */
	int (*check_master)(const void *kconf, struct nlsk *master_sk, const struct link_info *master);
	/* CHECK: does the existing link match the config? Records the error. */
	int (*verify)(const void *kconf, const struct link_info *link);
	/* Optional, ADD: runs right before the link is created (master resolved, nothing
	 * changed yet); records its error. When it succeeds, add_end runs exactly once:
	 * with r == 0 as soon as the link exists, or with r < 0 after a failure before
	 * that, to undo what add_begin did (no link of this ADD exists then; CNI_IFNAME
	 * may be another, earlier link's). */
	int (*add_begin)(void *kconf, const struct stacked_add *a);
	void (*add_end)(void *kconf, const struct stacked_add *a, int r);
	/*
	 * Optional: the link of (CNI_CONTAINERID, CNI_IFNAME) is gone. Runs once, best
	 * effort, under the attachment lock (cni_main), and only when no link of this
	 * attachment is left in the container:
	 *  - DEL removed it (it carried this attachment's mark and sat on the master);
	 *  - DEL found no link named CNI_IFNAME (a link of this attachment under
	 *    its temporary name was removed first), or the namespace is gone, or
	 *    DEL got no CNI_NETNS;
	 *  - a failed ADD that rolled back after add_end(0) deleted its link.
	 * It never runs when DEL leaves a link named CNI_IFNAME behind: another
	 * owner's (another mark, no mark, another kind) or this attachment's own on
	 * another parent. A registry keyed by (container ID, ifname) may thus drop
	 * its entry here without looking at the link again.
	 */
	void (*forget)(const struct cni_ctx *ctx);
	/* Without IPAM, the new interface takes prevResult's IPs that name no interface
	 * (and, when prevResult has no interfaces at all, its routes). */
	bool adopt_prev_ips;
};

int stacked_main(const struct link_kind *kind);

/*
 * The ownership mark ADD puts on the link as its alias (IFLA_IFALIAS), right
 * after creating it: "ucni:" CNI_CONTAINERID "/" CNI_IFNAME "/" network name,
 * or, when that does not fit in IFALIASZ - 1 bytes or the name has a byte
 * outside printable ASCII, "ucni:sha256:" and the 64 hex digits of the SHA-256
 * of the same "ID/ifname/name". Neither a container ID nor an ifname holds a
 * '/', and an ID no ':', so two attachments never share a mark.
 */
#define STACKED_MARK_MAX IFALIASZ
void stacked_mark(const char *containerid, const char *ifname, const char *network, char ret[STACKED_MARK_MAX]);
/* Parse the shared keys and the kind's own into *ret (ret->kind is malloc'd). */
int stacked_conf_parse(const struct link_kind *kind, const struct cni_ctx *ctx, struct stacked_conf *ret);

/* Helpers for kinds: find a u16/u32 attribute in link->info_data. */
int link_info_data_u16(const struct link_info *link, int type, uint16_t *ret);
int link_info_data_u32(const struct link_info *link, int type, uint32_t *ret);

/* The host-local IPAM plugin: its config, and ADD, DEL, CHECK, STATUS and GC on the reference plugin's store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucni/clock.h"
#include "ucni/node.h"
#include "common.h"
#include "disk.h"
#include "hostlocal-dns.h"
#include "range.h"

/* How long an operation waits for the network's store lock (the reference waits forever). */
#define STORE_LOCK_TIMEOUT_MS 10000
#define STORE_LOCK_TIMEOUT_MAX_MS 600000

struct hl_conf {
	const cJSON *ipam;
	struct hl_ranges ranges;
	char data_dir[PATH_MAX];
	const char *resolv_conf; /* NULL: none */
	struct ipam_requests req;
};

static void conf_free(struct hl_conf *c)
{
	hl_ranges_free(&c->ranges);
	ipam_requests_free(&c->req);
}

/* The keys every verb reads, checked in the reference's order (requested addresses, then
 * the ranges), then the rules of the names that become paths. */
static int conf_load(struct cni_ctx *ctx, struct hl_conf *ret)
{
	struct hl_conf c = {0};
	const char *dir = NULL;
	int r;

	if ((r = ipam_section(ctx, &c.ipam)) < 0 || (r = ipam_requests_load(ctx, IPAM_REQ_HOSTLOCAL, &c.req)) < 0 ||
	    (r = hl_ranges_parse(c.ipam, ctx->conf.runtime, &c.ranges)) < 0)
		goto fail;
	if ((r = conf_string(c.ipam, "ipam", "dataDir", &dir)) < 0 ||
	    (r = conf_string(c.ipam, "ipam", "resolvConf", &c.resolv_conf)) < 0)
		goto fail;
	if (c.resolv_conf && !*c.resolv_conf)
		c.resolv_conf = NULL;
	if (!dir || !*dir)
		dir = HL_DATA_DIR_DEFAULT;
	int n = node_path_normalize(dir, c.data_dir, sizeof(c.data_dir));
	if (n < 0) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"ipam.dataDir\" value \"%.256s%s\" %s", dir,
			     strlen(dir) > 256 ? "..." : "",
			     n == -ENAMETOOLONG ? "is too long"
						: "must be an absolute path without \"..\" or control characters");
		goto fail;
	}
	/* The network's name is a directory under dataDir. */
	if (!hl_store_name_ok(ctx->conf.name)) {
		r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
			     "invalid config: \"name\" value \"%s\" cannot name a directory under ipam.dataDir: "
			     "it must be 1 to 255 bytes, not \".\" or \"..\", without '/' or control characters",
			     ctx->conf.name);
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	conf_free(&c);
	return r;
}

static int store_open(struct cni_ctx *ctx, const struct hl_conf *c, bool create, struct hl_store *ret)
{
	/* in-process inside a plugin, the wait also ends by the plugin's IPAM deadline */
	int timeout = ipam_lock_wait_ms(
		env_ms("UCNI_LOCK_TIMEOUT_MS", STORE_LOCK_TIMEOUT_MS, 0, STORE_LOCK_TIMEOUT_MAX_MS));
	const char *why = NULL;
	int datafd = -1;
	/* A tenant names dataDir: the store lives only where the node's admin allows. */
	int r = node_open_dir(NODE_DATA_DIRS, c->data_dir, create, HL_DIR_MODE, &datafd, &why);
	if (r == -EPERM)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r, "invalid config: \"ipam.dataDir\" value \"%s\" %s",
				c->data_dir, why);
	if (r == 0) {
		r = hl_store_open(datafd, c->data_dir, ctx->conf.name, create, timeout, ret);
		close(datafd);
	}
	if (r == 0 || (r == -ENOENT && !create))
		return r;
	if (r == -ETIMEDOUT)
		return cni_fail(
			CNI_ERR_TRY_AGAIN, r,
			"the store of network \"%s\" in %s is busy: its lock was held for %d ms; try again later",
			ctx->conf.name, c->data_dir, timeout);
	if (r == -EPERM || r == -ENOTDIR)
		return cni_fail(CNI_ERR_IO, r,
				"ipam.dataDir: %s/%s is refused: it must be a real directory (no symbolic link) "
				"owned by uid %d and writable by it alone",
				c->data_dir, ctx->conf.name, (int)geteuid());
	if (r == -ENOTEMPTY)
		return cni_fail(CNI_ERR_IO, r,
				"ipam.dataDir: %s/%s is not a host-local store (it holds files but no \"lock\"): "
				"nothing is written there",
				c->data_dir, ctx->conf.name);
	return cni_fail(CNI_ERR_IO, r, "ipam.dataDir: the store %s/%s cannot be used", c->data_dir, ctx->conf.name);
}

/* ---- ADD ---- */

struct want {
	struct ip_addr a;
	bool used;
};

/* The requested addresses, each once: CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips. */
static int wants_collect(const struct ipam_requests *req, struct want **ret, size_t *ret_n)
{
	const struct ipam_reqs *lists[] = {&req->cni_args, &req->args, &req->runtime};
	size_t total = req->cni_args.n + req->args.n + req->runtime.n, n = 0;
	struct want *w = calloc(total ? total : 1, sizeof(*w));
	if (!w)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			struct ip_addr a = {.family = lists[l]->v[i].addr.family};
			bool dup = false;
			memcpy(a.addr.bytes, lists[l]->v[i].addr.addr.bytes, sizeof(a.addr.bytes));
			for (size_t j = 0; j < n && !dup; j++)
				dup = hl_addr_eq(&w[j].a, &a);
			if (!dup)
				w[n++].a = a;
		}
	*ret = w;
	*ret_n = n;
	return 0;
}

/* One address of range set `idx` for the attachment (the reference's allocator Get):
 * the requested one, or the next free one in the allocation order. */
static int allocate(struct cni_ctx *ctx, struct hl_store *st, const struct hl_rangeset *set, size_t idx,
		    const struct ip_addr *want, struct cni_result *res)
{
	const char *id = ctx->env.containerid, *ifname = ctx->env.ifname;
	char a[HL_ADDR_STRLEN], rs[1024];
	const struct hl_range *range = NULL;
	struct ip_addr got;
	int r;

	if (want) {
		range = hl_rangeset_find(set, want);
		if (hl_addr_eq(want, &range->gw))
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
					"failed to allocate for range %zu: requested ip %s is subnet's gateway", idx,
					hl_addr_str(want, a));
		if ((r = hl_store_reserve(st, id, ifname, want, idx)) < 0)
			return cni_fail(CNI_ERR_IO, r,
					"failed to allocate for range %zu: the store %s cannot be written", idx,
					st->dir);
		if (r == 0)
			return cni_fail_details(
				CNI_ERR_TRY_AGAIN, -EBUSY, "another attachment holds it",
				"failed to allocate for range %zu: requested IP address %s is not available in range set %s",
				idx, hl_addr_str(want, a), hl_rangeset_str(set, rs, sizeof(rs)));
		got = *want;
	} else {
		struct ip_addr *owned = NULL, last;
		size_t n = 0;
		struct hl_iter it;
		if ((r = hl_store_owned(st, id, ifname, &owned, &n)) < 0)
			return cni_fail(CNI_ERR_IO, r, "failed to allocate for range %zu: the store %s cannot be read",
					idx, st->dir);
		for (size_t i = 0; i < n; i++)
			if (hl_rangeset_find(set, &owned[i])) {
				hl_addr_str(&owned[i], a);
				free(owned);
				return cni_fail_details(
					CNI_ERR_TRY_AGAIN, -EEXIST, "DEL the attachment first",
					"failed to allocate for range %zu: %s has been allocated to %s, duplicate allocation is not allowed",
					idx, a, id);
			}
		free(owned);
		hl_iter_init(&it, set, hl_store_last(st, idx, &last) == 0 ? &last : NULL);
		for (;;) {
			if (!hl_iter_next(&it, &got, &range))
				return cni_fail_details(
					CNI_ERR_TRY_AGAIN, -ENOSPC, "every address of the range set is reserved",
					"failed to allocate for range %zu: no IP addresses available in range set: %s",
					idx, hl_rangeset_str(set, rs, sizeof(rs)));
			if ((r = hl_store_reserve(st, id, ifname, &got, idx)) < 0)
				return cni_fail(CNI_ERR_IO, r,
						"failed to allocate for range %zu: the store %s cannot be written", idx,
						st->dir);
			if (r == 1)
				break;
		}
	}
	struct ip_prefix p = {.family = got.family, .len = range->subnet.len};
	memcpy(p.addr.bytes, got.addr.bytes, sizeof(p.addr.bytes));
	return ipam_result_add_ip(res, &p, &range->gw);
}

static int hl_add(struct cni_ctx *ctx, struct cni_result **ret)
{
	struct hl_conf c;
	struct hl_store st = {.dirfd = -1, .lockfd = -1};
	struct cni_result *res = NULL;
	struct want *wants = NULL;
	size_t n_wants = 0, done = 0;
	int r;

	if ((r = conf_load(ctx, &c)) < 0)
		return r;
	if (!(res = cni_result_new())) {
		r = cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	if ((c.resolv_conf && (r = hl_resolv_load(c.resolv_conf, res)) < 0) ||
	    (r = wants_collect(&c.req, &wants, &n_wants)) < 0 || (r = store_open(ctx, &c, true, &st)) < 0)
		goto out;
	for (size_t i = 0; i < c.ranges.n; i++, done++) {
		const struct ip_addr *want = NULL;
		for (size_t j = 0; j < n_wants && !want; j++)
			if (!wants[j].used && hl_rangeset_find(&c.ranges.sets[i], &wants[j].a)) {
				wants[j].used = true;
				want = &wants[j].a;
			}
		if ((r = allocate(ctx, &st, &c.ranges.sets[i], i, want, res)) < 0)
			goto undo;
	}
	for (size_t j = 0; j < n_wants; j++)
		if (!wants[j].used) {
			char msg[1024] = "", a[HL_ADDR_STRLEN];
			size_t off = 0;
			for (size_t k = j; k < n_wants; k++)
				if (!wants[k].used && off < sizeof(msg))
					off += (size_t)snprintf(msg + off, sizeof(msg) - off, " %s",
								hl_addr_str(&wants[k].a, a));
			r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "failed to allocate all requested IPs:%s", msg);
			goto undo;
		}
	if ((r = ipam_routes_parse(c.ipam, res)) < 0)
		goto undo;
	*ret = res;
	res = NULL;
	goto out;
undo:
	/* As the reference: once one range set gave an address, every reservation of the
	 * attachment goes. */
	if (done > 0)
		hl_store_release(&st, ctx->env.containerid, ctx->env.ifname);
out:
	hl_store_close(&st);
	free(wants);
	cni_result_free(res);
	conf_free(&c);
	return r;
}

/* ---- DEL, CHECK, STATUS, GC: one operation on the store ---- */

typedef int (*store_op)(struct cni_ctx *ctx, const struct hl_conf *c, struct hl_store *st);

/* Load the config, open the store (with !create, st is NULL for a network without one)
 * and run op under its lock. */
static int on_store(struct cni_ctx *ctx, bool create, store_op op)
{
	struct hl_conf c;
	struct hl_store st = {.dirfd = -1, .lockfd = -1};
	int r;
	if ((r = conf_load(ctx, &c)) < 0)
		return r;
	r = store_open(ctx, &c, create, &st);
	if (r == 0 || r == -ENOENT)
		r = op(ctx, &c, r == 0 ? &st : NULL);
	hl_store_close(&st);
	conf_free(&c);
	return r;
}

static int del_op(struct cni_ctx *ctx, const struct hl_conf *c, struct hl_store *st)
{
	int r = 0;
	/* Once per range set, as the reference does (the second pass takes the files of
	 * older versions that name the container ID alone). */
	for (size_t i = 0; i < c->ranges.n && r >= 0; i++)
		r = hl_store_release(st, ctx->env.containerid, ctx->env.ifname);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "releasing the addresses of %s/%s in %s failed", ctx->env.containerid,
				ctx->env.ifname, st->dir);
	return 0;
}

static int check_op(struct cni_ctx *ctx, const struct hl_conf *c, struct hl_store *st)
{
	if (!hl_store_has(st, ctx->env.containerid, ctx->env.ifname))
		return cni_fail(CNI_ERR_UNKNOWN_CONTAINER, -ENOENT,
				"host-local: Failed to find address added by container %s", ctx->env.containerid);
	return 0;
}

static int hl_del(struct cni_ctx *ctx)
{
	return on_store(ctx, true, del_op);
}

static int hl_check(struct cni_ctx *ctx)
{
	return on_store(ctx, true, check_op);
}

/* STATUS: is an address left in every range set? */
struct tally {
	const struct hl_ranges *ranges;
	unsigned long long *used;
};

static int count_used(struct hl_store *s, const char *name, const struct ip_addr *a, const char *owner, void *data)
{
	struct tally *t = data;
	for (size_t i = 0; i < t->ranges->n; i++) {
		const struct hl_range *r = hl_rangeset_find(&t->ranges->sets[i], a);
		if (r && !hl_addr_eq(a, &r->gw))
			t->used[i]++;
	}
	return 0;
}

static int status_op(struct cni_ctx *ctx, const struct hl_conf *c, struct hl_store *st)
{
	struct tally t = {.ranges = &c->ranges, .used = calloc(c->ranges.n, sizeof(*t.used))};
	char rs[1024];
	int r = 0;
	if (!t.used)
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	if (st && (r = hl_store_each(st, count_used, &t)) < 0)
		r = cni_fail(CNI_ERR_IO, r, "the store %s cannot be read", st->dir);
	for (size_t i = 0; i < c->ranges.n && r == 0; i++)
		if (t.used[i] >= hl_rangeset_size(&c->ranges.sets[i]))
			r = cni_fail(CNI_ERR_NOT_AVAILABLE_EXISTING, -ENOSPC,
				     "no IP addresses available in range set %zu: %s", i,
				     hl_rangeset_str(&c->ranges.sets[i], rs, sizeof(rs)));
	free(t.used);
	return r;
}

static int hl_status(struct cni_ctx *ctx)
{
	return on_store(ctx, false, status_op);
}

/* GC: every reservation of an attachment not in the valid list goes. */
static int gc_one(struct hl_store *s, const char *name, const struct ip_addr *a, const char *owner, void *data)
{
	const cJSON *list = data, *e;
	cJSON_ArrayForEach(e, list) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "containerID"));
		const char *ifname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "ifname"));
		if (id && ifname && hl_owner_match(owner, id, ifname) != HL_OTHER)
			return 0;
	}
	hl_store_drop(s, name);
	return 0;
}

static int gc_op(struct cni_ctx *ctx, const struct hl_conf *c, struct hl_store *st)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(ctx->conf.root, "cni.dev/valid-attachments"), *e;
	size_t i = 0;
	int r;
	if (!cJSON_IsArray(list))
		return cni_fail(
			CNI_ERR_INVALID_CONFIG, -EINVAL,
			"invalid config: GC needs \"cni.dev/valid-attachments\", a list of {containerID, ifname}");
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "containerID")) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "ifname")))
			return cni_fail(
				CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"cni.dev/valid-attachments[%zu]\" must be {\"containerID\": string, "
				"\"ifname\": string}",
				i);
		i++;
	}
	if (st && (r = hl_store_each(st, gc_one, (void *)list)) < 0)
		return cni_fail(CNI_ERR_IO, r, "the store %s cannot be read", st->dir);
	return 0;
}

static int hl_gc(struct cni_ctx *ctx)
{
	return on_store(ctx, false, gc_op);
}

static const char *const known_args[] = {"IP", NULL};

const struct ipam_plugin ipam_hostlocal = {
	.name = "host-local",
	.about = "ucni host-local: addresses from ranges, reserved in a store on the node",
	.known_args = known_args,
	.add = hl_add,
	.del = hl_del,
	.check = hl_check,
	.status = hl_status,
	.gc = hl_gc,
};

#ifdef UCNI_FUZZ
/* The config parser alone, for tests/fuzz/fuzz_ipam.c: the keys every verb reads, the
 * routes, and the first addresses of each range set in allocation order (no store). */
int hostlocal_fuzz_parse(struct cni_ctx *ctx);
int hostlocal_fuzz_parse(struct cni_ctx *ctx)
{
	struct hl_conf c;
	struct cni_result *res = NULL;
	int r = conf_load(ctx, &c);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c.ranges.n; i++) {
		char buf[1024];
		struct hl_iter it;
		struct ip_addr a;
		const struct hl_range *range;
		hl_rangeset_str(&c.ranges.sets[i], buf, sizeof(buf));
		hl_iter_init(&it, &c.ranges.sets[i], NULL);
		for (int k = 0; k < 64 && hl_iter_next(&it, &a, &range); k++)
			if (!hl_rangeset_find(&c.ranges.sets[i], &a))
				abort(); /* the order only hands out addresses of the set */
	}
	if (!(res = cni_result_new()))
		r = -ENOMEM;
	else
		r = ipam_routes_parse(c.ipam, res);
	cni_result_free(res);
	conf_free(&c);
	return r;
}
#endif

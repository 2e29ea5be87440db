/* The DevicePlugin service of one resource (v1beta1): its requests decoded with protobuf-c,
 * answered from the model (dp_preferred, dp_allocate), errors as gRPC statuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "dpsvc.h"

/* The packed form of m into a new buffer. */
static int pack(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		return -ENOMEM;
	protobuf_c_message_pack(m, p);
	*ret = p;
	*ret_len = n;
	return 0;
}

static void reply(grpc_call *call, dp_service *svc, const ProtobufCMessage *m)
{
	uint8_t *p;
	size_t n;
	svc->calls++;
	if (pack(m, &p, &n) < 0) {
		svc->errors++;
		grpc_call_fail(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	grpc_call_reply(call, p, n);
	free(p);
}

static void fail(grpc_call *call, dp_service *svc, int status, const char *msg)
{
	svc->calls++;
	svc->errors++;
	grpc_call_fail(call, status, msg);
}

/* -errno of the model as a gRPC status: a bad device ID is the caller's error. */
static int status_of(int r)
{
	switch (-r) {
	case ENOENT: case EINVAL: case ERANGE: return GRPC_INVALID_ARGUMENT;
	case EBUSY: return GRPC_FAILED_PRECONDITION;
	case ENOMEM: return GRPC_RESOURCE_EXHAUSTED;
	default: return GRPC_INTERNAL;
	}
}

int dp_list_encode(const dp_resource *r, uint8_t **ret, size_t *ret_len)
{
	V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
	size_t n = r->n ? r->n : 1;
	V1beta1__Device *dev = calloc(n, sizeof(*dev));
	V1beta1__Device **devp = calloc(n, sizeof(*devp));
	V1beta1__TopologyInfo *topo = calloc(n, sizeof(*topo));
	V1beta1__NUMANode *node = calloc(n, sizeof(*node));
	V1beta1__NUMANode **nodep = calloc(n, sizeof(*nodep));
	int rc = -ENOMEM;
	if (!dev || !devp || !topo || !node || !nodep)
		goto out;
	for (size_t i = 0; i < r->n; i++) {
		const dp_device *d = &r->dev[i];
		v1beta1__device__init(&dev[i]);
		dev[i].id = (char *)d->id;
		dev[i].health = (char *)(d->healthy ? "Healthy" : "Unhealthy");
		if (!r->exclude_topology && d->numa >= 0) {
			v1beta1__topology_info__init(&topo[i]);
			v1beta1__numanode__init(&node[i]);
			node[i].id = d->numa;
			nodep[i] = &node[i];
			topo[i].n_nodes = 1;
			topo[i].nodes = &nodep[i];
			dev[i].topology = &topo[i];
		}
		devp[i] = &dev[i];
	}
	resp.n_devices = r->n;
	resp.devices = devp;
	rc = pack(&resp.base, ret, ret_len);
out:
	free(dev);
	free(devp);
	free(topo);
	free(node);
	free(nodep);
	return rc;
}

int dp_register_encode(const dp_resource *r, uint8_t **ret, size_t *ret_len)
{
	V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
	o.pre_start_required = false;
	o.get_preferred_allocation_available = true;
	req.version = (char *)DP_API_VERSION;
	req.endpoint = (char *)r->endpoint;
	req.resource_name = (char *)r->name;
	req.options = &o;
	return pack(&req.base, ret, ret_len);
}

static void get_options(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
	o.get_preferred_allocation_available = true;
	reply(call, ud, &o.base);
}

static void list_and_watch(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	dp_service *svc = ud;
	uint8_t *p;
	size_t n;
	svc->calls++;
	if (dp_list_encode(svc->res, &p, &n) < 0) {
		svc->errors++;
		grpc_call_fail(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	grpc_call_send(call, p, n); /* the stream stays open: serve sends every change */
	free(p);
}

static void pre_start(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	V1beta1__PreStartContainerResponse resp = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;
	reply(call, ud, &resp.base);
}

static void preferred(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	dp_service *svc = ud;
	char err[256];
	V1beta1__PreferredAllocationRequest *req = v1beta1__preferred_allocation_request__unpack(NULL, len, msg);
	if (!req) {
		fail(call, svc, GRPC_INVALID_ARGUMENT, "GetPreferredAllocation: the request does not decode");
		return;
	}
	size_t nc = req->n_container_requests;
	V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
	V1beta1__ContainerPreferredAllocationResponse *cr = calloc(nc ? nc : 1, sizeof(*cr));
	V1beta1__ContainerPreferredAllocationResponse **crp = calloc(nc ? nc : 1, sizeof(*crp));
	const char ***ids = calloc(nc ? nc : 1, sizeof(*ids));
	int status = GRPC_OK;
	if (!cr || !crp || !ids) {
		status = GRPC_RESOURCE_EXHAUSTED;
		snprintf(err, sizeof(err), "out of memory");
	}
	for (size_t i = 0; status == GRPC_OK && i < nc; i++) {
		const V1beta1__ContainerPreferredAllocationRequest *c = req->container_requests[i];
		size_t got = 0;
		if (c->allocation_size < 0) {
			status = GRPC_INVALID_ARGUMENT;
			snprintf(err, sizeof(err), "allocation_size %d is negative", (int)c->allocation_size);
			break;
		}
		size_t size = (size_t)c->allocation_size;
		ids[i] = calloc(size ? size : 1, sizeof(*ids[i]));
		/* protobuf-c leaves an empty list NULL; the model gets an array either way */
		static char *const none[1];
		const char *const *avail = (const char *const *)(c->available_deviceids ? c->available_deviceids : none);
		const char *const *must = (const char *const *)(c->must_include_deviceids ? c->must_include_deviceids : none);
		int r = ids[i] ? dp_preferred(svc->res, avail, c->n_available_deviceids, must, c->n_must_include_deviceids,
					      size, ids[i], &got, err, sizeof(err))
			       : -ENOMEM;
		if (r < 0) {
			status = status_of(r);
			if (r == -ENOMEM)
				snprintf(err, sizeof(err), "out of memory");
			break;
		}
		v1beta1__container_preferred_allocation_response__init(&cr[i]);
		cr[i].n_deviceids = got;
		cr[i].deviceids = (char **)ids[i];
		crp[i] = &cr[i];
	}
	if (status == GRPC_OK) {
		resp.n_container_responses = nc;
		resp.container_responses = crp;
		reply(call, svc, &resp.base);
	} else {
		char m[DP_RESOURCE_MAX + 320];
		snprintf(m, sizeof(m), "GetPreferredAllocation %s: %s", svc->res->name, err);
		fail(call, svc, status, m);
	}
	for (size_t i = 0; ids && i < nc; i++)
		free(ids[i]);
	free(ids);
	free(crp);
	free(cr);
	v1beta1__preferred_allocation_request__free_unpacked(req, NULL);
}

/* One container's answer from the model's dp_alloc (pointers into a). */
typedef struct container_answer {
	V1beta1__ContainerAllocateResponse resp;
	V1beta1__ContainerAllocateResponse__EnvsEntry *env, **envp;
	V1beta1__DeviceSpec *spec, **specp;
	dp_alloc a;
} container_answer;

static int fill_answer(container_answer *ca)
{
	v1beta1__container_allocate_response__init(&ca->resp);
	ca->env = calloc(ca->a.n_env + 1, sizeof(*ca->env));
	ca->envp = calloc(ca->a.n_env + 1, sizeof(*ca->envp));
	ca->spec = calloc(ca->a.n_spec + 1, sizeof(*ca->spec));
	ca->specp = calloc(ca->a.n_spec + 1, sizeof(*ca->specp));
	if (!ca->env || !ca->envp || !ca->spec || !ca->specp)
		return -ENOMEM;
	for (size_t k = 0; k < ca->a.n_env; k++) {
		v1beta1__container_allocate_response__envs_entry__init(&ca->env[k]);
		ca->env[k].key = ca->a.env[k].key;
		ca->env[k].value = ca->a.env[k].value;
		ca->envp[k] = &ca->env[k];
	}
	for (size_t k = 0; k < ca->a.n_spec; k++) {
		v1beta1__device_spec__init(&ca->spec[k]);
		ca->spec[k].host_path = ca->a.spec[k].host;
		ca->spec[k].container_path = ca->a.spec[k].container;
		ca->spec[k].permissions = ca->a.spec[k].perms;
		ca->specp[k] = &ca->spec[k];
	}
	ca->resp.n_envs = ca->a.n_env;
	ca->resp.envs = ca->envp;
	ca->resp.n_devices = ca->a.n_spec;
	ca->resp.devices = ca->specp;
	return 0;
}

static void answer_free(container_answer *ca)
{
	free(ca->env);
	free(ca->envp);
	free(ca->spec);
	free(ca->specp);
	dp_alloc_free(&ca->a);
}

static void allocate(grpc_call *call, const uint8_t *msg, size_t len, void *ud)
{
	dp_service *svc = ud;
	char err[256] = "";
	V1beta1__AllocateRequest *req = v1beta1__allocate_request__unpack(NULL, len, msg);
	if (!req) {
		fail(call, svc, GRPC_INVALID_ARGUMENT, "Allocate: the request does not decode");
		return;
	}
	size_t nc = req->n_container_requests;
	container_answer *ca = calloc(nc ? nc : 1, sizeof(*ca));
	V1beta1__ContainerAllocateResponse **crp = calloc(nc ? nc : 1, sizeof(*crp));
	int status = ca && crp ? GRPC_OK : GRPC_RESOURCE_EXHAUSTED;
	size_t done = 0;
	static char *const none[1];
	/* every container's IDs are checked before any device-info file is written: a request
	 * refused for its last container leaves nothing of its first */
	for (size_t i = 0; status == GRPC_OK && i < nc; i++) {
		const V1beta1__ContainerAllocateRequest *c = req->container_requests[i];
		int r = dp_allocate_check(svc->res, (const char *const *)(c->devices_ids ? c->devices_ids : none),
					  c->n_devices_ids, err, sizeof(err));
		if (r < 0)
			status = status_of(r);
	}
	for (; status == GRPC_OK && done < nc; done++) {
		const V1beta1__ContainerAllocateRequest *c = req->container_requests[done];
		int r = dp_allocate(svc->res, (const char *const *)(c->devices_ids ? c->devices_ids : none),
				    c->n_devices_ids, svc->devinfo_dir, &ca[done].a, err, sizeof(err));
		if (r < 0) {
			status = status_of(r);
			break;
		}
		if (fill_answer(&ca[done]) < 0) {
			done++;
			status = GRPC_RESOURCE_EXHAUSTED;
			break;
		}
		crp[done] = &ca[done].resp;
	}
	if (status == GRPC_OK) {
		V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
		resp.n_container_responses = nc;
		resp.container_responses = crp;
		reply(call, svc, &resp.base);
	} else {
		char m[DP_RESOURCE_MAX + 320];
		snprintf(m, sizeof(m), "Allocate %s: %s", svc->res->name, err[0] ? err : "out of memory");
		fail(call, svc, status, m);
	}
	for (size_t i = 0; ca && i < done; i++)
		answer_free(&ca[i]);
	free(ca);
	free(crp);
	v1beta1__allocate_request__free_unpacked(req, NULL);
}

const grpc_method dp_service_methods[] = {
	{ "/v1beta1.DevicePlugin/GetDevicePluginOptions", false, get_options },
	{ DP_PATH_LIST_AND_WATCH, true, list_and_watch },
	{ "/v1beta1.DevicePlugin/GetPreferredAllocation", false, preferred },
	{ "/v1beta1.DevicePlugin/Allocate", false, allocate },
	{ "/v1beta1.DevicePlugin/PreStartContainer", false, pre_start },
};
const size_t dp_service_n_methods = sizeof(dp_service_methods) / sizeof(dp_service_methods[0]);

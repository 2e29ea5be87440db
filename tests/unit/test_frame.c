/* The plugin frame: ADD's result as every plugin builds it (plugin_add_result). */
#include <stdlib.h>
#include "unit.h"
#include "ucni/plugin.h"

/* A context from a config text; ctx->conf owns the copy. */
static void ctx_load(struct cni_ctx *ctx, const char *conf)
{
	memset(ctx, 0, sizeof(*ctx));
	char *raw = strdup(conf);
	assert_non_null(raw);
	assert_int_equal(cni_conf_parse(&ctx->conf, raw, strlen(raw)), 0);
	ctx->env.netns = "/var/run/netns/t";
	ctx->env.ifname = "net1";
}

static struct cni_result *ipam_result(const char *json)
{
	struct cni_result *r = NULL;
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	assert_int_equal(cni_result_parse(j, "IPAM result", &r), 0);
	cJSON_Delete(j);
	return r;
}

/* The answer parsed back, for its fields. */
static struct cni_result *answer(const struct cni_ctx *ctx, const struct plugin_iface *f, const struct cni_result *ipam,
				 bool adopt)
{
	struct cni_result *r = NULL;
	cJSON *o = NULL;
	assert_int_equal(plugin_add_result(ctx, f, ipam, adopt, &o), 0);
	assert_non_null(o);
	assert_int_equal(cni_result_parse(o, "result", &r), 0);
	cJSON_Delete(o);
	return r;
}

/* Without prevResult: the one interface, IPAM's IPs on it, the config's dns. */
static void fresh(void **state)
{
	struct cni_ctx ctx;
	ctx_load(&ctx, "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"macvlan\","
		       "\"dns\":{\"nameservers\":[\"10.0.0.53\"]}}");
	struct cni_result *ipam = ipam_result("{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":\"10.0.0.5/24\","
					      "\"gateway\":\"10.0.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}");
	struct plugin_iface f = {.name = "net1", .mac = "02:00:00:00:00:05", .mtu = 1400};
	struct cni_result *r = answer(&ctx, &f, ipam, false);
	assert_int_equal(r->n_ifaces, 1);
	assert_string_equal(r->ifaces[0].name, "net1");
	assert_string_equal(r->ifaces[0].mac, "02:00:00:00:00:05");
	assert_string_equal(r->ifaces[0].sandbox, "/var/run/netns/t");
	assert_int_equal(r->ifaces[0].mtu, 1400);
	assert_null(r->ifaces[0].pci_id);
	assert_int_equal(r->n_ips, 1);
	assert_int_equal(r->ips[0].iface, 0);
	assert_int_equal(r->n_routes, 1);
	assert_non_null(r->dns);
	cni_result_free(r);
	cni_result_free(ipam);
	cni_conf_free(&ctx.conf);
}

/* After prevResult: its interfaces first; with adopt, its IPs that name no
 * interface go to the new one, and without adopt they stay unbound. */
static void chained(void **state)
{
	struct cni_ctx ctx;
	ctx_load(&ctx, "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"sriov\",\"prevResult\":{"
		       "\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/t\"}],"
		       "\"ips\":[{\"interface\":0,\"address\":\"10.1.0.2/24\"},{\"address\":\"10.2.0.2/24\"}]}}");
	struct plugin_iface f = {.name = "net1", .pci_id = "0000:3b:01.1"};
	struct cni_result *r = answer(&ctx, &f, NULL, true);
	assert_int_equal(r->n_ifaces, 2);
	assert_string_equal(r->ifaces[1].name, "net1");
	assert_null(r->ifaces[1].mac);
	assert_int_equal(r->ifaces[1].mtu, 0);
	assert_string_equal(r->ifaces[1].pci_id, "0000:3b:01.1");
	assert_int_equal(r->n_ips, 2);
	assert_int_equal(r->ips[0].iface, 0);
	assert_int_equal(r->ips[1].iface, 1);
	cni_result_free(r);
	r = answer(&ctx, &f, NULL, false);
	assert_int_equal(r->ips[1].iface, -1);
	cni_result_free(r);
	cni_conf_free(&ctx.conf);
}

/* cniVersion governs the print: 0.4.0 has no pciID or mtu. */
static void old_version(void **state)
{
	struct cni_ctx ctx;
	cJSON *o = NULL;
	ctx_load(&ctx, "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"sriov\"}");
	struct plugin_iface f = {.name = "net1", .mtu = 1500, .pci_id = "0000:3b:01.1"};
	assert_int_equal(plugin_add_result(&ctx, &f, NULL, false, &o), 0);
	char *s = cJSON_PrintUnformatted(o);
	assert_non_null(strstr(s, "\"cniVersion\":\"0.4.0\""));
	assert_null(strstr(s, "pciID"));
	assert_null(strstr(s, "mtu"));
	free(s);
	cJSON_Delete(o);
	cni_conf_free(&ctx.conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(fresh, reset_error),
		cmocka_unit_test_setup(chained, reset_error),
		cmocka_unit_test_setup(old_version, reset_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Network configuration: the keys every plugin shares, and typed access that
 * names the key and the value in every error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucni/cni.h"
#include "ucni/log.h"
#include "ucni/node.h"
#include "ucni/result.h"

/* "ipam.type" or "mtu" */
static const char *keyname(const char *where, const char *key, char *buf, size_t len)
{
	if (where)
		snprintf(buf, len, "%s.%s", where, key);
	else
		snprintf(buf, len, "%s", key);
	return buf;
}

/* A short rendering of a JSON value for messages. */
static char *show(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	if (s && strlen(s) > 64)
		strcpy(s + 60, "...");
	return s;
}

static int wrong(const cJSON *v, const char *where, const char *key, const char *expect)
{
	char kb[128];
	char *s = show(v);
	int r = cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"%s\" must be %s, got %s",
			 keyname(where, key, kb, sizeof(kb)), expect, s ? s : "?");
	free(s);
	return r;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

int conf_string(const cJSON *obj, const char *where, const char *key, const char **ret)
{
	const cJSON *v = get(obj, key);
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return wrong(v, where, key, "a string");
	*ret = v->valuestring;
	return 1;
}

int conf_int(const cJSON *obj, const char *where, const char *key, long long min, long long max,
	     long long *ret)
{
	const cJSON *v = get(obj, key);
	char kb[128];
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
		return wrong(v, where, key, "an integer");
	if (v->valuedouble < (double)min || v->valuedouble > (double)max)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -ERANGE,
				"invalid config: \"%s\" value %.0f is out of range (%lld..%lld)",
				keyname(where, key, kb, sizeof(kb)), v->valuedouble, min, max);
	*ret = (long long)v->valuedouble;
	return 1;
}

int conf_bool(const cJSON *obj, const char *where, const char *key, bool *ret)
{
	const cJSON *v = get(obj, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return wrong(v, where, key, "true or false");
	*ret = cJSON_IsTrue(v);
	return 1;
}

int conf_enum(const cJSON *obj, const char *where, const char *key, const char *const *choices,
	      int *ret)
{
	const char *s;
	char kb[128], list[256] = "";
	int r = conf_string(obj, where, key, &s);
	if (r <= 0)
		return r;
	for (int i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0) {
			*ret = i;
			return 1;
		}
	for (int i = 0; choices[i]; i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, choices[i], sizeof(list) - strlen(list) - 1);
	}
	return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
			"invalid config: \"%s\" has unknown value \"%s\" (expected one of: %s)",
			keyname(where, key, kb, sizeof(kb)), s, list);
}

int parse_mac(const char *s, unsigned char ret[6])
{
	unsigned int b[6];
	char tail;
	if (!s || strlen(s) != 17)
		return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3] == ' ' || s[i * 3 + 1] == ' ' || s[i * 3] == '+' || s[i * 3] == '-')
			return -EINVAL;
		ret[i] = (unsigned char)b[i];
	}
	return 0;
}

void format_mac(const unsigned char mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

int conf_mac(const cJSON *obj, const char *where, const char *key, unsigned char ret[6])
{
	const char *s;
	char kb[128];
	unsigned char m[6];
	int r = conf_string(obj, where, key, &s);
	if (r <= 0)
		return r;
	keyname(where, key, kb, sizeof(kb));
	if (parse_mac(s, m) < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"%s\" value \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
				kb, s);
	if (m[0] & 1)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"%s\" value \"%s\" is a multicast address", kb, s);
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"%s\" value \"%s\" is the all-zero address", kb, s);
	memcpy(ret, m, 6);
	return 1;
}

int conf_mtu(const cJSON *obj, unsigned int *ret)
{
	long long mtu;
	int r = conf_int(obj, NULL, "mtu", 0, 65535, &mtu);
	if (r <= 0)
		return r;
	if (mtu != 0 && mtu < 68)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"mtu\" value %lld is below the minimum 68", mtu);
	*ret = (unsigned int)mtu;
	return 1;
}

int conf_mac_chosen(const struct cni_ctx *ctx, unsigned char ret[6])
{
	const char *arg = cni_env_arg(&ctx->env, "MAC");
	int r = conf_mac(ctx->conf.runtime, "runtimeConfig", "mac", ret);
	if (r != 0)
		return r;
	if (arg) {
		if (parse_mac(arg, ret) < 0 || (ret[0] & 1))
			return cni_fail(CNI_ERR_INVALID_ENV, -EINVAL,
					"CNI_ARGS: MAC value \"%s\" is not a unicast MAC address", arg);
		return 1;
	}
	return conf_mac(ctx->conf.root, NULL, "mac", ret);
}

/* A name that ucni would look up as a file: no path parts, no control characters. */
static int plain_name(const char *s, const char *what)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strchr(s, '/'))
		goto bad;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			goto bad;
	return 0;
bad:
	return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
			"invalid config: \"%s\" value \"%s\" must be a plain program name", what, s);
}

/* logLevel and logFile. A logFile the node's rules refuse (outside its log directories,
 * not a regular file, reached through a link, unusable node settings) is ignored:
 * nothing is opened or written there, a warning goes to stderr (the runtime's log) and
 * the operation goes on, as it does when an allowed file cannot be opened (its
 * directory is missing, the disk is full). A log is a diagnostic: it never decides
 * whether a pod gets its network, nor whether a DEL can clean up. */
static int log_open_conf(const cJSON *root)
{
	const char *lvl = NULL, *file = NULL, *why = NULL;
	enum log_level l;
	int fd = STDERR_FILENO, r;
	if (conf_string(root, NULL, "logLevel", &lvl) < 0 || conf_string(root, NULL, "logFile", &file) < 0)
		return -EINVAL;
	if (file && *file && file[0] != '/')
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"logFile\" value \"%s\" must be an absolute path", file);
	if (!lvl && !file)
		return 0;
	if (log_level_parse(lvl, &l) < 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
				"invalid config: \"logLevel\" value \"%s\" is not one of error, warning, info, debug, panic",
				lvl);
	if (log_pinned()) /* an IPAM in-process: the keys are checked, the plugin's log is kept */
		return 0;
	if (file && *file) {
#ifdef UCNI_FUZZ
		/* fuzzed configs must not create files: the path rules only */
		char buf[4096];
		if (node_path_normalize(file, buf, sizeof(buf)) < 0)
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EPERM, "invalid config: \"logFile\" refused");
		return 0;
#endif
		r = node_open(NODE_LOG_DIRS, file, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why);
		if (r < 0) {
			char shown[512];
			log_escape(shown, sizeof(shown), file);
			if (r == -EPERM)
				fprintf(stderr, "ucni: \"logFile\" %s ignored: %s; not logging\n", shown, why);
			else
				fprintf(stderr, "ucni: \"logFile\" %s cannot be opened (%s): not logging\n", shown,
					strerror(-r));
			return 0;
		}
	}
	log_start(l, fd);
	return 0;
}

int cni_conf_parse(struct cni_conf *c, char *raw, size_t len)
{
	const char *s;
	int r;

	c->raw = raw;
	c->raw_len = len;
	size_t i = 0;
	while (i < len && (raw[i] == ' ' || raw[i] == '\n' || raw[i] == '\t' || raw[i] == '\r'))
		i++;
	if (i == len)
		return cni_fail(CNI_ERR_DECODE, -EINVAL, "no network configuration on stdin");
	if ((r = cni_json_parse(raw, len, "network configuration", &c->root)) < 0)
		return r;
	if (!cJSON_IsObject(c->root))
		return cni_fail(CNI_ERR_DECODE, -EINVAL, "network configuration is not a JSON object");

	const cJSON *root = c->root;
	if ((r = conf_string(root, NULL, "cniVersion", &c->version_str)) < 0)
		return r;
	if (r == 0)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"cniVersion\" is missing");
	r = cni_version_parse(c->version_str);
	if (r < 0)
		return cni_fail(CNI_ERR_INCOMPATIBLE_VERSION, -ENOTSUP,
				"incompatible CNI version \"%s\" (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)",
				c->version_str);
	c->version = r;

	/* Logging first, so the rest of the parse can be logged. */
	if ((r = log_open_conf(root)) < 0)
		return r;

	if ((r = conf_string(root, NULL, "name", &c->name)) < 0)
		return r;
	if (r == 0 || !*c->name)
		return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL, "invalid config: \"name\" is missing");
	if (conf_string(root, NULL, "type", &c->type) < 0)
		return -EINVAL;

	const cJSON *v = get(root, "ipam");
	if (v) {
		if (!cJSON_IsObject(v))
			return wrong(v, NULL, "ipam", "an object");
		if ((r = conf_string(v, "ipam", "type", &s)) < 0)
			return r;
		if (r > 0 && !*s)
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
					"invalid config: \"ipam.type\" is empty (use \"ipam\": {} for no IPAM)");
		if (r > 0) {
			if ((r = plain_name(s, "ipam.type")) < 0)
				return r;
			c->ipam = v;
			c->ipam_type = s;
		} else if (cJSON_GetArraySize(v) > 0 && r == 0) {
			return cni_fail(CNI_ERR_INVALID_CONFIG, -EINVAL,
					"invalid config: \"ipam.type\" is missing (use \"ipam\": {} for no IPAM)");
		}
	}
	c->ipam_in_process = true;
	if (conf_bool(root, NULL, "ipamInProcess", &c->ipam_in_process) < 0)
		return -EINVAL;
	v = get(root, "dns");
	if (v && !cJSON_IsObject(v))
		return wrong(v, NULL, "dns", "an object");
	c->dns = v;
	v = get(root, "runtimeConfig");
	if (v && !cJSON_IsObject(v))
		return wrong(v, NULL, "runtimeConfig", "an object");
	c->runtime = v;
	v = get(root, "prevResult");
	if (v) {
		if (!cJSON_IsObject(v))
			return wrong(v, NULL, "prevResult", "an object");
		c->prev_json = v;
		if ((r = cni_result_parse(v, "prevResult", &c->prev)) < 0)
			return r;
	}
	return 0;
}

void cni_conf_free(struct cni_conf *c)
{
	cJSON_Delete(c->root);
	cni_result_free(c->prev);
	free(c->raw);
	memset(c, 0, sizeof(*c));
}

/* host-local's resolvConf: the file found by the node's rules and read as the reference reads it. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucni/io.h"
#include "ucni/node.h"
#include "hostlocal-dns.h"

static int dns_add(cJSON *dns, const char *key, const char *val, size_t len, bool list)
{
	char *copy = strndup(val, len);
	cJSON *s = copy ? cJSON_CreateString(copy) : NULL;
	free(copy);
	if (!s)
		return -ENOMEM;
	if (!list) {
		cJSON_DeleteItemFromObjectCaseSensitive(dns, key);
		cJSON_AddItemToObject(dns, key, s);
		return 0;
	}
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(dns, key);
	if (!arr && !(arr = cJSON_AddArrayToObject(dns, key))) {
		cJSON_Delete(s);
		return -ENOMEM;
	}
	cJSON_AddItemToArray(arr, s);
	return 0;
}

/* The next word of [*p, e): its start and length, 0 when none is left. */
static size_t word(const char **p, const char *e, const char **ret)
{
	static const char *const ws = " \t\r\v\f";
	while (*p < e && strchr(ws, **p))
		(*p)++;
	size_t n = 0;
	while (*p + n < e && !strchr(ws, (*p)[n]))
		n++;
	*ret = *p;
	*p += n;
	return n;
}

int hl_resolv_parse(const char *text, cJSON *dns)
{
	for (const char *line = text; *line;) {
		const char *e = line + strcspn(line, "\n"), *p = line, *key, *w;
		size_t n, klen = word(&p, e, &key);
		line = *e ? e + 1 : e;
		if (klen == 0 || *key == '#' || *key == ';')
			continue;
		const char *name = NULL;
		bool all = false, list = false;
		if (klen == 10 && !strncmp(key, "nameserver", 10))
			name = "nameservers", list = true;
		else if (klen == 6 && !strncmp(key, "domain", 6))
			name = "domain";
		else if (klen == 6 && !strncmp(key, "search", 6))
			name = "search", list = all = true;
		else if (klen == 7 && !strncmp(key, "options", 7))
			name = "options", list = all = true;
		if (!name)
			continue;
		while ((n = word(&p, e, &w)) > 0) {
			if (dns_add(dns, name, w, n, list) < 0)
				return -ENOMEM;
			if (!all)
				break;
		}
	}
	return 0;
}

int hl_resolv_load(const char *path, struct cni_result *res)
{
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r = node_open(NODE_CONFIG_DIRS, path, O_RDONLY, 0, &fd, &why);
	if (r == -EPERM)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r,
				"invalid config: \"ipam.resolvConf\" value \"%s\" is refused: %s", path,
				why ? why : "not below a configDirs directory of the node settings");
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "ipam.resolvConf: %s cannot be read", path);
	r = read_all(fd, HL_RESOLV_CONF_MAX, &text, &len);
	close(fd);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "ipam.resolvConf: %s cannot be read (at most %d bytes)", path,
				HL_RESOLV_CONF_MAX);
	/* A NUL ends the text: what follows is not a resolv.conf line. */
	cJSON *dns = cJSON_CreateObject();
	if (!dns || hl_resolv_parse(text, dns) < 0) {
		free(text);
		cJSON_Delete(dns);
		return cni_fail(CNI_ERR_INTERNAL, -ENOMEM, "out of memory");
	}
	free(text);
	cJSON_Delete(res->dns);
	res->dns = dns;
	return 0;
}

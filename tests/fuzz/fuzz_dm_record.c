/* libFuzzer: one allocation record of devmgr's store (vfs/<pci>.json), as read back after
 * a crash, a disk error or a hand edit. A record that parses must survive being written
 * and read again unchanged, and every field that passed is safe to use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../devmgr/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pci[] = "0000:3b:01.0";
	dm_record *r = NULL, *again = NULL;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	if (record_from_json(pci, s, &r) == 0) {
		if (strcmp(r->pci, pci) || !dm_owner_id_valid(r->owner) || (r->ifname && !dm_ifname_valid(r->ifname)) ||
		    (r->netns && r->netns[0] != '/') || r->time < 0)
			abort();
		char *text = record_to_json(r);
		if (!text)
			abort();
		if (record_from_json(pci, text, &again) != 0)
			abort();
		if (!same(r->pool, again->pool) || !same(r->owner, again->owner) || !same(r->ifname, again->ifname) ||
		    !same(r->netns, again->netns) || r->netns_ino != again->netns_ino || r->netns_cookie != again->netns_cookie ||
		    r->time != again->time ||
		    r->pid != again->pid || !same(r->data, again->data))
			abort();
		free(text);
		cJSON_Delete(json_record(r, NULL));
		dm_record_free(again);
		dm_record_free(r);
	}
	free(s);
	return 0;
}

/* The rules for names from outside: interface names, container ids, PCI addresses. */
#include <errno.h>
#include <string.h>

#include "ucni/valid.h"

/* ASCII only: the same answer whatever locale a program using the library set. */
static bool ascii_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

const char *ifname_problem(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return "is empty";
	if (n > 15)
		return "is too long (at most 15 characters)";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "is not a valid name";
	/* white space and control characters: 0x00-0x20 and 0x7f */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return "contains an invalid character";
	return NULL;
}

enum id_problem id_check(const char *id)
{
	if (!id || !*id)
		return ID_EMPTY;
	size_t n = strlen(id);
	if (n > ID_LEN_MAX)
		return ID_TOO_LONG;
	if (!ascii_alnum(id[0]))
		return ID_BAD_CHAR;
	for (const char *p = id; *p; p++)
		if (!ascii_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
			return ID_BAD_CHAR;
	return ID_OK;
}

static int lower_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool pci_addr_valid(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.x";
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'x') {
			if (lower_hex(s[i]) < 0)
				return false;
		} else if (s[i] != pat[i])
			return false;
	}
	if (s[sizeof(pat) - 1])
		return false;
	/* device 0..1f, function 0..7 */
	return lower_hex(s[8]) * 16 + lower_hex(s[9]) <= 0x1f && s[11] <= '7';
}

int pci_addr_normalize(const char *s, char ret[PCI_ADDR_SIZE])
{
	char buf[PCI_ADDR_SIZE];
	size_t len;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len == 7) { /* bb:dd.f */
		memcpy(buf, "0000:", 5);
		memcpy(buf + 5, s, 8);
	} else if (len == 12)
		memcpy(buf, s, 13);
	else
		return -EINVAL;
	for (char *p = buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!pci_addr_valid(buf))
		return -EINVAL;
	memcpy(ret, buf, sizeof(buf));
	return 0;
}

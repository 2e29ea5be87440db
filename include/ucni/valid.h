/* The rules for names that come from outside (the runtime's environment, a config,
 * devmgr's command line, a record on disk) and end up in file names, netlink
 * requests and records: each rule once, for the plugins and devmgr alike. */
#pragma once

#include <stdbool.h>

/* "dddd:bb:dd.f" and its NUL (devmgr's DM_PCI_ADDR_MAX). */
#define PCI_ADDR_SIZE 16
/* The longest container id (devmgr's owner ids: DM_OWNER_MAX - 1). */
#define ID_LEN_MAX 255

/* Why `name` cannot be a network interface name, or NULL when it can: 1 to 15
 * characters, not "." or "..", no '/', ':', white space or control character. */
const char *ifname_problem(const char *name);

/* What is wrong with a container id (the CNI spec's rule; devmgr's owner ids are
 * container ids): 1 to ID_LEN_MAX characters, an ASCII letter or digit first,
 * then letters, digits, '_', '.', '-'. */
enum id_problem { ID_OK, ID_EMPTY, ID_TOO_LONG, ID_BAD_CHAR };
enum id_problem id_check(const char *id);

/* A PCI address in its exact canonical form, "dddd:bb:dd.f" in lower case with
 * device 00..1f and function 0..7. Called for every entry of sysfs's bus and
 * drivers' directories: no locale, no strtoul. */
bool pci_addr_valid(const char *s);
/* `s` ("dddd:bb:dd.f" or "bb:dd.f", either case) in canonical form: 0, or -EINVAL. */
int pci_addr_normalize(const char *s, char ret[PCI_ADDR_SIZE]);

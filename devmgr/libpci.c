/* libpci, opened on first use: the functions on a bus of any sysfs tree (sysfs.path) and
 * their pci.ids names, with libpci's errors turned into -EIO. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>

#include "internal.h"
#include "ucni/io.h"

/*
 * libpci is opened with the first inventory, not linked: a program that never takes one
 * (the sriov plugin given a deviceID, `devmgr alloc`, `release`) then does not load it,
 * nor what it pulls in (libudev, libz, …), at every start. The package depends on it.
 */
#define LIBPCI_SONAME "libpci.so.3"
static struct {
	struct pci_access *(*alloc)(void);
	void (*init)(struct pci_access *);
	void (*cleanup)(struct pci_access *);
	void (*scan_bus)(struct pci_access *);
	int (*set_param)(struct pci_access *, char *, char *);
	char *(*lookup_name)(struct pci_access *, char *, int, int, ...);
} libpci;
static int libpci_err;
static pthread_once_t libpci_once = PTHREAD_ONCE_INIT;

static void libpci_dlopen(void)
{
	void *h = dlopen(LIBPCI_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		libpci_err = -ELIBACC;
		return;
	}
	*(void **)&libpci.alloc = dlsym(h, "pci_alloc");
	*(void **)&libpci.init = dlsym(h, "pci_init");
	*(void **)&libpci.cleanup = dlsym(h, "pci_cleanup");
	*(void **)&libpci.scan_bus = dlsym(h, "pci_scan_bus");
	*(void **)&libpci.set_param = dlsym(h, "pci_set_param");
	*(void **)&libpci.lookup_name = dlsym(h, "pci_lookup_name");
	if (!libpci.alloc || !libpci.init || !libpci.cleanup || !libpci.scan_bus || !libpci.set_param ||
	    !libpci.lookup_name)
		libpci_err = -ELIBBAD;
}

/* libpci's error hook must not return: each call into libpci below runs in a setjmp()
 * frame of its own, to which the hook jumps back. Nothing in such a frame lives across
 * the longjmp. */
static __thread jmp_buf *pci_jmp;

static void PCI_NONRET pci_error_hook(char *msg, ...)
{
	(void)msg;
	if (pci_jmp)
		longjmp(*pci_jmp, 1);
	abort();
}

static void pci_quiet_hook(char *msg, ...)
{
	(void)msg;
}

/* FN (libpci's init or scan_bus) on PACC: 0, or -EIO when libpci gave up. */
static int guarded(void (*fn)(struct pci_access *), struct pci_access *pacc)
{
	jmp_buf jb;
	int r = -EIO;
	pci_jmp = &jb;
	if (setjmp(jb) == 0) {
		fn(pacc);
		r = 0;
	}
	pci_jmp = NULL;
	return r;
}

int libpci_open(const char *root, struct pci_access **ret)
{
	char param[PATH_MAX];
	pthread_once(&libpci_once, libpci_dlopen);
	if (libpci_err < 0)
		return libpci_err;
	struct pci_access *pacc = libpci.alloc();
	if (!pacc)
		return -ENOMEM;
	pacc->error = pci_error_hook;
	pacc->warning = pci_quiet_hook;
	pacc->debug = pci_quiet_hook;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	snprintf(param, sizeof(param), "%s/bus/pci", root);
	libpci.set_param(pacc, (char *)"sysfs.path", param);
	int r = guarded(libpci.init, pacc);
	if (r < 0) {
		libpci.cleanup(pacc);
		return r;
	}
	*ret = pacc;
	return 0;
}

void libpci_close(struct pci_access *pacc)
{
	if (pacc)
		libpci.cleanup(pacc);
}

int libpci_scan(struct pci_access *pacc, char (**ret)[DM_PCI_ADDR_MAX], size_t *ret_n)
{
	int r = guarded(libpci.scan_bus, pacc);
	if (r < 0)
		return r;
	size_t cap = 0, n = 0;
	for (struct pci_dev *p = pacc->devices; p; p = p->next)
		cap++;
	char(*addrs)[DM_PCI_ADDR_MAX] = calloc(cap ? cap : 1, sizeof(*addrs));
	if (!addrs)
		return -ENOMEM;
	for (struct pci_dev *p = pacc->devices; p; p = p->next) {
		char pci[DM_PCI_ADDR_MAX + 16];
		snprintf(pci, sizeof(pci), "%04x:%02x:%02x.%d", p->domain, p->bus, p->dev, p->func);
		if (pci_addr_valid(pci))
			str_copy(addrs[n++], DM_PCI_ADDR_MAX, pci);
	}
	*ret = addrs;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------- pci.ids */

/* The names come from pci.ids read here as libpci's parser reads it, but only the lines
 * of the vendors asked for: libpci would first parse and hash the whole file (tens of
 * thousands of entries) for the few names an inventory needs. What is not found there,
 * or a compressed list, is left to libpci itself, which also asks the udev hardware
 * database: the names are the same either way. */

void libpci_ids_free(libpci_ids *ids)
{
	free(ids->text);
	memset(ids, 0, sizeof(*ids));
}

/* pci.ids as libpci opens it: its id_file_name ("….gz" when built with zlib), or without
 * the ".gz" when that cannot be opened. false: leave the names to libpci. */
static bool ids_load(struct pci_access *pacc, libpci_ids *ids)
{
	char path[PATH_MAX];
	if (ids->tried)
		return ids->text != NULL;
	ids->tried = true;
	const char *name = pacc->id_file_name;
	size_t len = name ? strlen(name) : 0;
	if (!len || len >= sizeof(path))
		return false;
	str_copy(path, sizeof(path), name);
	if (len > 3 && !strcmp(path + len - 3, ".gz")) {
		if (access(path, F_OK) == 0)
			return false; /* compressed: libpci reads it */
		path[len - 3] = 0;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int r = read_all(fd, 64 << 20, &ids->text, &ids->len);
	close(fd);
	if (r < 0)
		ids->text = NULL;
	return ids->text != NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The ID of 4 hex digits at P followed by a blank (END: the line's end), else -1. */
static long id4(const char *p, const char *end)
{
	long v = 0;
	if (end - p < 5 || !blank(p[4]))
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hex_digit(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* The name after the ID at P into BUF as libpci gives it: one trailing blank of the line
 * (ending at END) dropped, the blanks before it skipped, "..." ending one too long. */
static bool ids_name(const char *p, const char *end, char buf[LIBPCI_NAME_MAX])
{
	if (blank(end[-1]))
		end--;
	for (p += 5; p < end && blank(*p); p++)
		;
	if (p >= end)
		return false;
	size_t n = (size_t)(end - p);
	if (n < LIBPCI_NAME_MAX) {
		memcpy(buf, p, n);
		buf[n] = 0;
	} else {
		memcpy(buf, p, LIBPCI_NAME_MAX - 1);
		buf[LIBPCI_NAME_MAX - 1] = 0;
		buf[LIBPCI_NAME_MAX - 2] = buf[LIBPCI_NAME_MAX - 3] = buf[LIBPCI_NAME_MAX - 4] = '.';
	}
	return true;
}

/* VENDOR's name and its DEVICE's from the text of pci.ids: which were found
 * (LIBPCI_HAVE_*). A vendor's block is its line and the indented lines up to the next
 * top-level one; a device is a line indented by one tab. */
static int ids_find(const libpci_ids *ids, uint16_t vendor, uint16_t device, char vname[LIBPCI_NAME_MAX],
                    char dname[LIBPCI_NAME_MAX])
{
	const char *p = ids->text, *end = ids->text + ids->len;
	int found = 0;
	while (p < end) {
		const char *line = p, *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *cr = memchr(line, '\r', (size_t)(le - line)), *q = line;
		p = nl ? nl + 1 : end;
		if (cr)
			le = cr;
		while (q < le && blank(*q))
			q++;
		if (q == le || *q == '#')
			continue; /* blank or comment: in no block */
		if (line[0] != '\t') {
			if (found)
				break; /* the vendor's block ended */
			if (id4(line, le) == vendor && ids_name(line, le, vname))
				found = LIBPCI_HAVE_VENDOR;
		} else if (found && line[1] != '\t' && id4(line + 1, le) == device && ids_name(line + 1, le, dname))
			return found | LIBPCI_HAVE_DEVICE;
	}
	return found;
}

/* The names HAVE lacks from libpci: LIBPCI_HAVE_* of both, or -EIO. */
static int libpci_lookup(struct pci_access *pacc, int have, uint16_t vendor, uint16_t device,
                         char vname[LIBPCI_NAME_MAX], char dname[LIBPCI_NAME_MAX])
{
	jmp_buf jb;
	int r;
	pci_jmp = &jb;
	if (setjmp(jb) == 0) {
		r = have;
		if (!(r & LIBPCI_HAVE_VENDOR) &&
		    libpci.lookup_name(pacc, vname, LIBPCI_NAME_MAX, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, vendor))
			r |= LIBPCI_HAVE_VENDOR;
		if (!(r & LIBPCI_HAVE_DEVICE) &&
		    libpci.lookup_name(pacc, dname, LIBPCI_NAME_MAX, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor,
		                       device))
			r |= LIBPCI_HAVE_DEVICE;
	} else
		r = -EIO; /* R was changed after setjmp(): set it again */
	pci_jmp = NULL;
	return r;
}

int libpci_names(struct pci_access *pacc, libpci_ids *ids, uint16_t vendor, uint16_t device,
                 char vname[LIBPCI_NAME_MAX], char dname[LIBPCI_NAME_MAX])
{
	int have = ids_load(pacc, ids) ? ids_find(ids, vendor, device, vname, dname) : 0;
	if (have == (LIBPCI_HAVE_VENDOR | LIBPCI_HAVE_DEVICE))
		return have;
	return libpci_lookup(pacc, have, vendor, device, vname, dname);
}

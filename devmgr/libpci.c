/* libpci, opened on first use: the functions on a bus of any sysfs tree (sysfs.path) and
 * their pci.ids names, with libpci's errors turned into -EIO. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>

#include "internal.h"

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

int libpci_names(struct pci_access *pacc, uint16_t vendor, uint16_t device, char vname[LIBPCI_NAME_MAX],
                 char dname[LIBPCI_NAME_MAX])
{
	jmp_buf jb;
	int r;
	pci_jmp = &jb;
	if (setjmp(jb) == 0) {
		r = 0;
		if (libpci.lookup_name(pacc, vname, LIBPCI_NAME_MAX, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, vendor))
			r |= LIBPCI_HAVE_VENDOR;
		if (libpci.lookup_name(pacc, dname, LIBPCI_NAME_MAX, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor,
		                       device))
			r |= LIBPCI_HAVE_DEVICE;
	} else
		r = -EIO; /* R was changed after setjmp(): set it again */
	pci_jmp = NULL;
	return r;
}

/* Device-info files of the Network Plumbing WG's Device Information Specification 1.1.0:
 * the "pci" shape, written or merged atomically. */
#pragma once

#include <stdbool.h>

#define DEVINFO_VERSION "1.1.0"
/* The default directory: device plugins write under dp/, CNI plugins under cni/. */
#define DEVINFO_DIR_DEFAULT "/var/run/k8s.cni.cncf.io/devinfo"

/*
 * Writes NAME in the directory DIRFD as {"type": "pci", "version": "1.1.0", "pci":
 * {"pci-address": PCI, "pf-pci-address": PF, "rdma-device": RDMA}} (PF and RDMA left out
 * when NULL or ""), mode 0444, replaced atomically (state_write_at, without fsync: the
 * file describes an attachment, which ends with the machine; the temp file is
 * ".<NAME>.<pid>.<n>", safe from several threads at once). MERGE: the members of an existing file that are not ours stay
 * (and its "pci" object's other members); without MERGE it is replaced whole.
 * Returns 0 when there was no file, 1 when there was one, or -errno: -EBADMSG when MERGE
 * and the existing file is not a JSON object, -ELOOP when NAME is a symbolic link,
 * -EINVAL when it is not a regular file.
 */
int devinfo_write_pci(int dirfd, const char *name, const char *pci, const char *pf, const char *rdma, bool merge);

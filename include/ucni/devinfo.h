/* Device-info files of the Network Plumbing WG's Device Information Specification 1.1.0:
 * the "pci" shape, written or merged atomically; the removal of one an attachment made. */
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

/*
 * Removes PATH, the device-info file an attachment's ADD created (runtimeConfig.
 * CNIDeviceInfoFile, kept in its saved state), under the node's devinfoDirs as they are
 * now: its directory is opened by node_open_parent() (no link followed on the way, none
 * created), and only a regular file is unlinked, never what a symbolic link names.
 * The one remover of the sriov plugin's DEL and ADD rollback and of libdevmgr's release
 * and gc. Returns 1 when it was removed, 0 when there was nothing to remove (the file or
 * its directory is gone), or -errno and the file is left: -EPERM when the node's rules
 * refuse the path now, -ELOOP when PATH is a symbolic link, -EISDIR or -EINVAL when it is
 * a directory or another non-regular file; for these *RET_WHY (static storage) says why
 * in words, for any other -errno it is NULL.
 */
int devinfo_remove(const char *path, const char **ret_why);

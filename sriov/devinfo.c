/* The attachment's device-info file (Device Information Specification 1.1.0), at the path
 * the runtime gives as runtimeConfig.CNIDeviceInfoFile: written or merged on ADD, removed
 * on DEL when ADD created it (through lib/base's devinfo_remove(), as devmgr release and gc). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ucni/devinfo.h"
#include "ucni/log.h"
#include "ucni/node.h"
#include "sriov.h"

int sriov_devinfo_write(struct sr *s, bool *ret_created)
{
	const char *path = s->c.devinfo_file, *why = NULL;
	char name[NAME_MAX + 1], rdma[64];
	int dfd, r;

	*ret_created = false;
	if (!path)
		return 0;
	r = node_open_parent(NODE_DEVINFO_DIRS, path, 1, &dfd, name, &why);
	if (r == -EPERM)
		return cni_fail(CNI_ERR_INVALID_CONFIG, r, "invalid config: \"runtimeConfig.CNIDeviceInfoFile\" value \"%s\" %s",
				path, why);
	if (r < 0)
		return cni_fail(CNI_ERR_IO, r, "the directory of the device-info file %s cannot be opened", path);
	if (dm_device_rdma(s->sysfs, s->pci, rdma, sizeof(rdma)) < 0)
		rdma[0] = 0; /* none: the file names no RDMA device */
	/* an existing file (the runtime's, another plugin's) keeps what is not ours */
	r = devinfo_write_pci(dfd, name, s->pci, s->dev.pf_pci, rdma, true);
	if (r == -ELOOP || r == -EINVAL || r == -EBADMSG) {
		close(dfd);
		return cni_fail(CNI_ERR_INVALID_CONFIG, r, "invalid config: \"runtimeConfig.CNIDeviceInfoFile\" value \"%s\" %s",
				path, r == -ELOOP ? "is a symbolic link" : r == -EINVAL ? "is not a regular file"
				: "holds something that is not a JSON object");
	}
	if (r < 0) {
		close(dfd);
		return cni_fail(CNI_ERR_IO, r, "writing the device-info file %s failed", path);
	}
	if (r == 1) {
		close(dfd);
		log_info("ADD %s: device-info file %s merged", s->ctx->env.containerid, path);
		return 0;
	}
	/* ours: DEL removes it, so the record says so before anything else can fail */
	snprintf(s->orig.devinfo_file, sizeof(s->orig.devinfo_file), "%s", path);
	char *txt = dm_vf_state_format(&s->orig);
	r = txt ? dm_store_set_data(s->store, s->pci, s->ctx->env.containerid, txt) : -errno;
	free(txt);
	if (r < 0) {
		unlinkat(dfd, name, 0);
		close(dfd);
		s->orig.devinfo_file[0] = 0;
		return cni_fail(CNI_ERR_IO, r, "saving the state of VF %s failed", s->pci);
	}
	close(dfd);
	*ret_created = true;
	return 0;
}

void sriov_devinfo_remove(const char *verb, const char *path, const char *id)
{
	const char *why = NULL;
	int r = devinfo_remove(path, &why);
	if (r == 1)
		log_info("%s %s: device-info file %s removed", verb, id, path);
	else if (r < 0 && why)
		log_warn("%s %s: device-info file %s left in place: %s", verb, id, path, why);
	else if (r < 0)
		log_warn("%s %s: device-info file %s cannot be removed: %s", verb, id, path, strerror(-r));
}

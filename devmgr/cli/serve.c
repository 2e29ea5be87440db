/* devmgr serve: the kubelet device plugin (devmgr/serve.c runs it); the command line's part. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "../serve.h"

static int load_config(void *arg, dm_config **ret)
{
	ctx x;
	int r = ctx_load(&x, -1, CTX_CONFIG_REQUIRED);
	if (r)
		return r;
	*ret = x.cfg;
	x.cfg = NULL;
	ctx_done(&x);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	serve_opts o = {
		.sysfs_root = opt.sysfs_root,
		.state_dir = state_dir(),
		.kubelet_dir = opt.kubelet_dir ? opt.kubelet_dir : SERVE_KUBELET_DIR,
		.devinfo_dir = opt.devinfo_dir ? opt.devinfo_dir : SERVE_DEVINFO_DIR,
		.prefix = opt.resource_prefix,
		.load_config = load_config,
	};
	struct stat st;
	if (!*o.kubelet_dir || !*o.devinfo_dir)
		return die(EXIT_USAGE, "serve: --kubelet-dir and --devinfo-dir must not be empty");
	if (o.prefix && (!*o.prefix || strchr(o.prefix, '/')))
		return die(EXIT_USAGE, "serve: --resource-prefix \"%s\" is not a DNS name (no '/', not empty)", o.prefix);
	if (stat(o.kubelet_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return die(EXIT_NOT_FOUND, "serve: the kubelet directory %s is not a directory", o.kubelet_dir);
	/* the store's checks on the state dir (owner, mode), and it exists for the lock */
	dm_store *s;
	int r = open_store(true, &s);
	if (r)
		return r;
	dm_store_free(s);
	r = serve_run(&o);
	switch (r) {
	case 0: return EXIT_OK;
	case -EBUSY: return EXIT_BUSY; /* said who holds it */
	case -ENOEXEC: case -EINVAL: return EXIT_CONFIG;
	default: return exit_code(r) == EXIT_USAGE ? EXIT_FAIL : exit_code(r);
	}
}

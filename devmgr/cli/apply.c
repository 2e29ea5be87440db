/* devmgr apply [--check]: a configuration's PFs brought to their "pfs" entries (the
 * engine is devmgr/apply.c) and its pools installed; --check only tells the drift. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../apply.h"
#include "../eswitch.h"

/* Changes and drift on stdout, what is left alone or undone too; mismatches on stderr. */
static void on_note(void *arg, apply_note kind, const char *line)
{
	if (kind == APPLY_MISMATCH)
		fprintf(stderr, "devmgr: %s\n", line);
	else
		fprintf(arg, "%s\n", line);
}

/* The pools: installed as the default configuration (unless CHECK); 1 when that is (or
 * would be) a change, 0 none, or -(exit code). */
static int install_pools(const char *file, const dm_config *c, bool check, FILE *out)
{
	_cleanup_free_ char *text = NULL, *old = NULL;
	char path[PATH_MAX];
	dm_store *s = NULL;
	size_t len;
	int r = config_read_text(file, &text, &len);
	/* as dm_config_load() found it: only a file changed since fails here */
	if (r == -EFBIG || r == -EINVAL)
		return -die(EXIT_CONFIG, "%s: not a regular file of at most 1 MiB", file);
	if (r < 0)
		return -die(EXIT_FAIL, "%s: cannot read: %s", file, strerror(-r));
	snprintf(path, sizeof(path), "%s/config.json", state_dir());
	if (config_read_text(path, &old, &len) < 0)
		old = NULL; /* none installed, or unreadable: installed anew */
	if (old && !strcmp(old, text))
		return 0;
	if (check) {
		fprintf(out, "pools: the installed configuration is not %s\n", file);
		return 1;
	}
	if ((r = open_store(true, &s)))
		return -r;
	int e = dm_store_install_config(s, text);
	dm_store_free(s);
	if (e < 0)
		return -die(EXIT_FAIL, "cannot install %s: %s", path, strerror(-e));
	fprintf(out, "pools: %zu installed\n", dm_config_pool_count(c));
	return 1;
}

int apply_file(const char *file, bool check, FILE *out)
{
	char err[1024];
	dm_store *s = NULL;
	dm_config *c = NULL;
	int r = dm_config_load(file, &c, err, sizeof(err));
	if (r < 0)
		return die(EXIT_CONFIG, "%s", err);

	/* every PF checked before any changes */
	size_t n = dm_config_pf_count(c), n_change = 0;
	char (*pcis)[DM_PCI_ADDR_MAX] = calloc(n ? n : 1, DM_PCI_ADDR_MAX);
	pf_change *change = calloc(n ? n : 1, sizeof(*change));
	int changes = 0, mismatches = 0;
	if (!pcis || !change) {
		r = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const dm_pf_spec *p = dm_config_pf(c, i);
		dm_device d;
		const char *label = p->name ? p->name : p->pci;
		if ((r = resolve_pf(label, pcis[i])))
			goto out;
		if ((r = dm_device_lookup(opt.sysfs_root, pcis[i], &d)) < 0) {
			r = die(EXIT_NOT_FOUND, "pfs[%zu] %s: %s", i, label, strerror(-r));
			goto out;
		}
		if (p->num_vfs > d.total_vfs) {
			r = die(EXIT_UNSUPPORTED, "pfs[%zu] %s: numVfs %d exceeds sriov_totalvfs %d", i, label, p->num_vfs,
			        d.total_vfs);
			goto out;
		}
		/* a new eswitch mode takes the VFs away and back: guarded as a count change */
		bool esw_change = false;
		if (p->eswitch_mode >= 0 && !p->externally_managed) {
			dm_eswitch_mode m;
			int e = dm_eswitch_get(opt.sysfs_root, pcis[i], &m);
			if (e == -EOPNOTSUPP) {
				r = die(EXIT_UNSUPPORTED, "pfs[%zu].eswitchMode: %s (%s) has no devlink eswitch", i, label, pcis[i]);
				goto out;
			}
			esw_change = e < 0 || (int)m != p->eswitch_mode;
		}
		if ((d.num_vfs != p->num_vfs || esw_change) && !p->externally_managed) {
			change[n_change] = (pf_change){ label, "", p->num_vfs };
			str_copy(change[n_change++].pci, DM_PCI_ADDR_MAX, pcis[i]);
		}
	}
	/* externallyManaged PFs: verified before anything changes anywhere */
	for (size_t i = 0; i < n; i++) {
		const dm_pf_spec *p = dm_config_pf(c, i);
		apply_opts o = { opt.sysfs_root, true, NULL, on_note, out };
		apply_result res;
		if (!p->externally_managed)
			continue;
		if ((r = apply_pf(&o, p, pcis[i], &res, err, sizeof(err))) < 0) {
			r = die(EXIT_FAIL, "%s", err);
			goto out;
		}
		mismatches += res.mismatches;
	}
	if (mismatches) {
		r = die(EXIT_CONFIG, "%d externallyManaged setting%s not satisfied; nothing changed", mismatches,
		        mismatches == 1 ? "" : "s");
		goto out;
	}
	/* no VF count changes under allocations (their locks stay held meanwhile); the
	 * allocated VFs of the other PFs are left alone by the engine */
	if (!check && (r = guard_pfs("apply", change, n_change, &s)))
		goto out;
	if (!s && (r = open_store(false, &s)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const dm_pf_spec *p = dm_config_pf(c, i);
		apply_opts o = { opt.sysfs_root, check, s, on_note, out };
		apply_result res;
		if (p->externally_managed)
			continue;
		r = apply_pf(&o, p, pcis[i], &res, err, sizeof(err));
		changes += res.changes;
		if (r < 0) {
			r = die(exit_code(r) == EXIT_USAGE ? EXIT_FAIL : exit_code(r), "%s%s", err,
			        i ? " (the PFs before it in the file keep the changes listed above)" : "");
			goto out;
		}
	}
	s = dm_store_free(s);
	if ((r = install_pools(file, c, check, out)) < 0) {
		r = -r;
		goto out;
	}
	changes += r;
	if (check) {
		if (changes)
			fprintf(out, "apply --check: %d difference%s\n", changes, changes == 1 ? "" : "s");
		r = changes ? EXIT_DRIFT : EXIT_OK;
	} else {
		if (changes)
			fprintf(out, "apply: %d change%s\n", changes, changes == 1 ? "" : "s");
		else
			fprintf(out, "apply: nothing to change\n");
		r = EXIT_OK;
	}
out:
	dm_store_free(s);
	free(change);
	free(pcis);
	dm_config_free(c);
	return r;
}

int cmd_apply(int argc, char **argv)
{
	if (opt.check && opt.force)
		return die(EXIT_USAGE, "apply: --check changes nothing; --force does not go with it");
	return apply_file(argv[0], opt.check, stdout);
}

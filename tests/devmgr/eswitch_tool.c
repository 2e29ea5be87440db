/* eswitch_tool — dm_eswitch_get()/dm_eswitch_set() from the command line, for the VM
 * suite (tests/devmgr/eswitch-vm-guest.sh); built normally and as FAULTS=1.
 *
 *   eswitch_tool get PF             prints the mode (legacy, switchdev)
 *   eswitch_tool set PF MODE NUMVFS prints "changed" or "unchanged"
 *
 * PF: a PCI address or netdevsim/netdevsimN. Failure: the error text on stderr, exit 7
 * for -EOPNOTSUPP, 3 for -ERANGE or -EINVAL, 1 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devmgr/eswitch.h"

static int fail(int r, const char *err)
{
	fprintf(stderr, "eswitch_tool: %s: %s\n", strerror(-r), err);
	return r == -EOPNOTSUPP ? 7 : r == -ERANGE || r == -EINVAL ? 3 : 1;
}

int main(int argc, char **argv)
{
	char err[1024] = "";
	dm_eswitch_mode m;
	int r;
	if (argc == 3 && !strcmp(argv[1], "get")) {
		if ((r = dm_eswitch_get(NULL, argv[2], &m)) < 0)
			return fail(r, argv[2]);
		puts(dm_eswitch_mode_name(m));
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "set")) {
		char *end;
		long n = strtol(argv[4], &end, 10);
		if (dm_eswitch_mode_parse(argv[3], &m) < 0 || *end || end == argv[4])
			return fail(-EINVAL, "usage: eswitch_tool set PF legacy|switchdev NUMVFS");
		if ((r = dm_eswitch_set(NULL, argv[2], m, (int)n, err, sizeof(err))) < 0)
			return fail(r, err);
		puts(r ? "changed" : "unchanged");
		return 0;
	}
	fputs("usage: eswitch_tool get PF | set PF legacy|switchdev NUMVFS\n", stderr);
	return 2;
}

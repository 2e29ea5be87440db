/* devmgr — the SR-IOV device manager CLI: its command line (global options, which
 * command takes which option and how many operands), usage and exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

struct cli_options opt = { .sysfs_root = DM_DEFAULT_SYSFS_ROOT, .numa = -1 };

static void usage(FILE *f)
{
	fputs("Usage: devmgr [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  list [--json | -o wide] [--no-headers]\n"
	      "                                     PFs with their VFs, and other NICs\n"
	      "  show DEV [--json]                  one device by PCI address or netdev name\n"
	      "  status [PF] [--json | -o wide] [--no-headers]\n"
	      "                                     the node's SR-IOV state: PFs, VFs, eswitch mode\n"
	      "  vfs PF N [--force]                 set the PF's number of VFs (refused while\n"
	      "                                     any of its VFs is allocated, unless --force)\n"
	      "  apply CONFIG [--force | --check]   bring the PFs to the config's pfs (VF counts,\n"
	      "                                     MTU, link, VF drivers and settings), install\n"
	      "                                     the pools; --check: only tell the drift (exit 9)\n"
	      "  pools [--json | -o wide] [--no-headers]\n"
	      "                                     pool members, free and used\n"
	      "  alloc --pool P --owner ID [--ifname IF] [--netns PATH] [--numa N] [--json]\n"
	      "  release (--owner ID [--ifname IF] | DEV) [--force] [--json]\n"
	      "                                     restore the VF, then release it\n"
	      "  gc [--json]                        restore and release allocations whose netns is gone\n"
	      "  export --format device-plugin      pools as an SR-IOV device plugin config\n"
	      "  watch [--count N] [--timeout S] [--apply CONFIG]\n"
	      "                                     one JSON line per device change; --apply:\n"
	      "                                     re-apply CONFIG on changes (rate-limited)\n"
	      "  serve [--kubelet-dir DIR] [--devinfo-dir DIR] [--resource-prefix P]\n"
	      "                                     the kubelet's device plugin for every pool\n"
	      "\n"
	      "Global options:\n"
	      "  --sysfs-root DIR   sysfs to read (default /sys)\n"
	      "  --state-dir DIR    allocation store (default " DM_DEFAULT_STATE_DIR ")\n"
	      "  --config FILE      pool configuration (default: the one `apply` installed,\n"
	      "                     else " DEFAULT_CONFIG ")\n"
	      "\n"
	      "The tables of list, status and pools fit 100 columns (-o wide: full cells, more columns),\n"
	      "in colour on a terminal unless NO_COLOR is set.\n"
	      "\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 3 bad configuration, 4 not found,\n"
	      "5 no free VF, 6 busy (a VF held or locked; vfs/apply: the PF has allocated VFs),\n"
	      "7 not supported, 8 corrupt or foreign state, 9 apply --check: the node drifted.\n",
	      f);
}

int die(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("devmgr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int exit_code(int e)
{
	switch (-e) {
	case 0: return EXIT_OK;
	case EINVAL: return EXIT_USAGE;
	case ENOENT: case ENXIO: return EXIT_NOT_FOUND;
	case ENOSPC: return EXIT_NO_FREE;
	case EBUSY: case EWOULDBLOCK: return EXIT_BUSY;
	case ENODEV: case ERANGE: case EOPNOTSUPP: return EXIT_UNSUPPORTED;
	case EBADMSG: case EPROTO: case ENOTDIR: return EXIT_STATE;
	default: return EXIT_FAIL;
	}
}

void print_json(cJSON *o)
{
	char *s = cJSON_Print(o);
	if (s) {
		puts(s);
		free(s);
	}
	cJSON_Delete(o);
}

int parse_count(const char *s, int *ret)
{
	if (parse_int(s, ret) < 0 || *ret < 0)
		return -EINVAL;
	return 0;
}

static int run_watch(int argc, char **argv)
{
	return cmd_watch(opt.sysfs_root, opt.count, opt.timeout, opt.apply);
}

/* A command option's val is the letter that names it in a command's OPTS below. */
enum { O_SYSFS = 256, O_STATE, O_CONFIG, O_VERSION };

static const struct option longopts[] = {
	{ "sysfs-root", required_argument, NULL, O_SYSFS },
	{ "state-dir", required_argument, NULL, O_STATE },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "json", no_argument, NULL, 'j' },
	{ "pool", required_argument, NULL, 'p' },
	{ "owner", required_argument, NULL, 'O' },
	{ "ifname", required_argument, NULL, 'i' },
	{ "netns", required_argument, NULL, 'n' },
	{ "numa", required_argument, NULL, 'm' },
	{ "format", required_argument, NULL, 'f' },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "force", no_argument, NULL, 'F' },
	{ "check", no_argument, NULL, 'C' },
	{ "apply", required_argument, NULL, 'a' },
	{ "output", required_argument, NULL, 'o' },
	{ "no-headers", no_argument, NULL, 'H' },
	{ "kubelet-dir", required_argument, NULL, 'K' },
	{ "devinfo-dir", required_argument, NULL, 'D' },
	{ "resource-prefix", required_argument, NULL, 'R' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Each command: the options it takes, how many operands, their usage line. */
static const struct command {
	const char *name, *opts;
	int min, max;
	const char *usage;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "list", "joH", 0, 0, "[--json | -o wide] [--no-headers]", cmd_list },
	{ "show", "j", 1, 1, "DEV [--json]", cmd_show },
	{ "status", "joH", 0, 1, "[PF] [--json | -o wide] [--no-headers]", cmd_status },
	{ "vfs", "F", 2, 2, "PF N [--force]", cmd_vfs },
	{ "apply", "FC", 1, 1, "CONFIG [--force | --check]", cmd_apply },
	{ "pools", "joH", 0, 0, "[--json | -o wide] [--no-headers]", cmd_pools },
	{ "alloc", "jpOinm", 0, 0, "--pool P --owner ID [--ifname IF] [--netns PATH] [--numa N] [--json]", cmd_alloc },
	{ "release", "jOiF", 0, 1, "(--owner ID [--ifname IF] | DEV) [--force] [--json]", cmd_release },
	{ "gc", "j", 0, 0, "[--json]", cmd_gc },
	{ "export", "f", 0, 0, "--format device-plugin", cmd_export },
	{ "watch", "cta", 0, 0, "[--count N] [--timeout SECONDS] [--apply CONFIG]", run_watch },
	{ "serve", "KDR", 0, 0, "[--kubelet-dir DIR] [--devinfo-dir DIR] [--resource-prefix P]", cmd_serve },
};

int main(int argc, char **argv)
{
	char used[16] = "";
	int c;

	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case O_SYSFS: opt.sysfs_root = optarg; break;
		case O_STATE: opt.state_dir = optarg; break;
		case O_CONFIG: opt.config = optarg; break;
		case 'j': opt.json = true; break;
		case 'p': opt.pool = optarg; break;
		case 'O': opt.owner = optarg; break;
		case 'o':
			if (strcmp(optarg, "wide"))
				return die(EXIT_USAGE, "-o: \"%s\" is not an output format (wide)", optarg);
			opt.wide = true;
			break;
		case 'H': opt.no_headers = true; break;
		case 'i': opt.ifname = optarg; break;
		case 'n': opt.netns = optarg; break;
		case 'f': opt.format = optarg; break;
		case 'F': opt.force = true; break;
		case 'C': opt.check = true; break;
		case 'a': opt.apply = optarg; break;
		case 'K': opt.kubelet_dir = optarg; break;
		case 'D': opt.devinfo_dir = optarg; break;
		case 'R': opt.resource_prefix = optarg; break;
		case 'm':
			if (parse_count(optarg, &opt.numa) < 0)
				return die(EXIT_USAGE, "--numa: \"%s\" is not a NUMA node number", optarg);
			break;
		case 'c':
			if (parse_count(optarg, &opt.count) < 0)
				return die(EXIT_USAGE, "--count: \"%s\" is not a count", optarg);
			break;
		case 't':
			if (parse_count(optarg, &opt.timeout) < 0)
				return die(EXIT_USAGE, "--timeout: \"%s\" is not a number of seconds", optarg);
			break;
		case O_VERSION: puts("devmgr 0.1"); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		size_t ul = strlen(used);
		if (c < O_SYSFS && !strchr(used, c) && ul < sizeof(used) - 1) {
			used[ul] = (char)c;
			used[ul + 1] = 0;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!*opt.sysfs_root)
		return die(EXIT_USAGE, "--sysfs-root must not be empty");
	const char *name = argv[optind];
	const struct command *cmd = NULL;
	for (size_t k = 0; k < ELEMENTSOF(commands) && !cmd; k++)
		if (!strcmp(commands[k].name, name))
			cmd = &commands[k];
	if (!cmd)
		return die(EXIT_USAGE, "unknown command \"%s\" (see devmgr --help)", name);
	for (const char *u = used; *u; u++)
		if (!strchr(cmd->opts, *u))
			for (const struct option *o = longopts; o->name; o++)
				if (o->val == *u)
					return die(EXIT_USAGE, "%s: option --%s does not apply", name, o->name);
	if (opt.json && opt.wide)
		return die(EXIT_USAGE, "%s: --json and -o wide exclude each other", name);
	int nargs = argc - optind - 1;
	if (nargs < cmd->min || nargs > cmd->max)
		return die(EXIT_USAGE, "usage: devmgr %s %s", name, cmd->usage);
	return cmd->run(nargs, argv + optind + 1);
}

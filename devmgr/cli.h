/* The CLI's header (cli/cli.h), for devmgr/watch.c beside this file. */
#include "cli/cli.h"

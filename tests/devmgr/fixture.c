/* The devmgr unit tests' work directory and fake sysfs trees (fixture.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

char fx_workdir[256];
static char generator[PATH_MAX];

int fx_setup(const char *tag)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -1;
	self[n] = 0;
	*strrchr(self, '/') = 0; /* <build>/tests/devmgr */
	if ((size_t)snprintf(generator, sizeof(generator), "%.*s/../fixtures/mkfakesysfs", PATH_MAX - 64, self) >=
	    sizeof(generator))
		return -1;
	if (access(generator, X_OK) < 0)
		return -1;
	snprintf(fx_workdir, sizeof(fx_workdir), "/tmp/devmgr-%s.XXXXXX", tag);
	return mkdtemp(fx_workdir) ? 0 : -1;
}

int fx_teardown(void)
{
	return fx_workdir[0] && fx_sh("rm -rf '%s'", fx_workdir) == 0 ? 0 : -1;
}

int fx_vsh(const char *fmt, va_list ap)
{
	char cmd[4 * PATH_MAX];
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	int r = system(cmd);
	return r != -1 && WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

int fx_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fx_vsh(fmt, ap);
	va_end(ap);
	return r;
}

int fx_tree(const char *dir, const char *extra)
{
	return fx_sh("rm -rf '%s' && '%s' '%s' %s", dir, generator, dir, extra ? extra : "");
}

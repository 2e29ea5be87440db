/* cmocka fixtures shared by the unit test programs: a private temporary directory per test. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "ucni/state.h"

char test_dir[256];

int test_dir_make(void **state)
{
	(void)state;
	snprintf(test_dir, sizeof(test_dir), "/tmp/ucni-unit.XXXXXX");
	return mkdtemp(test_dir) ? 0 : -1;
}

int test_dir_remove(void **state)
{
	char cmd[700];
	(void)state;
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", test_dir, test_dir);
	return system(cmd) == 0 ? 0 : -1;
}

void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", test_dir, name);
}

char *slurp(const char *path)
{
	char *s = NULL;
	size_t n = 0;
	return state_read(path, 64 << 20, &s, &n) == 0 ? s : NULL;
}

static int saved_stderr = -1;

void stderr_to(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (saved_stderr < 0)
		saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

void stderr_restore(void)
{
	if (saved_stderr < 0)
		return;
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
}

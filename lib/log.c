/* logLevel/logFile: a line per event, appended to the file (or stderr). Never stdout. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ucni/log.h"

static enum log_level level = LOG_LVL_OFF;
static int log_fd = -1;

static const char *const names[] = {"off", "error", "warning", "info", "debug"};

int log_setup(const char *lvl, const char *file)
{
	enum log_level l = LOG_LVL_INFO;
	if (lvl) {
		if (strcasecmp(lvl, "panic") == 0 || strcasecmp(lvl, "error") == 0)
			l = LOG_LVL_ERROR;
		else if (strcasecmp(lvl, "warning") == 0 || strcasecmp(lvl, "warn") == 0)
			l = LOG_LVL_WARNING;
		else if (strcasecmp(lvl, "info") == 0)
			l = LOG_LVL_INFO;
		else if (strcasecmp(lvl, "debug") == 0)
			l = LOG_LVL_DEBUG;
		else
			return -EINVAL;
	}
#ifdef UCNI_FUZZ
	file = NULL; /* fuzzed configs must not create files */
#endif
	if (file && *file) {
		/* A log that cannot be opened must not fail the CNI operation. */
		int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return 0;
		log_fd = fd;
	} else {
		log_fd = STDERR_FILENO;
	}
	level = l;
	return 0;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	if (lvl > level || log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ [%d] %s: ", ts.tv_nsec / 1000000,
		      (int)getpid(), names[lvl]);
	va_list ap;
	va_start(ap, fmt);
	if (n < (int)sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(log_fd, line, (size_t)n);
	(void)w;
}

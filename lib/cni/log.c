/* logLevel/logFile: a line per event, appended to the file (or stderr). Never stdout.
 * Values in a line come from the network config (a tenant's, with Multus): the line is
 * escaped as a whole, so no value can end it or start another. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ucni/log.h"

#define LOG_LINE_MAX 1024

static enum log_level level = LOG_LVL_OFF;
static int log_fd = -1;

static const char *const names[] = {"off", "error", "warning", "info", "debug"};

int log_level_parse(const char *lvl, enum log_level *ret)
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
	*ret = l;
	return 0;
}

static bool pinned;

void log_pin(bool on)
{
	pinned = on;
}

bool log_pinned(void)
{
	return pinned;
}

void log_start(enum log_level l, int fd)
{
	if (log_fd >= 0 && log_fd != STDERR_FILENO && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	level = fd >= 0 ? l : LOG_LVL_OFF;
}

static size_t escape_char(unsigned char c, char e[4])
{
	static const char hex[] = "0123456789abcdef";
	switch (c) {
	case '\n': e[0] = '\\', e[1] = 'n'; return 2;
	case '\r': e[0] = '\\', e[1] = 'r'; return 2;
	case '\t': e[0] = '\\', e[1] = 't'; return 2;
	case '\\': e[0] = '\\', e[1] = '\\'; return 2;
	default:
		if (c >= 0x20 && c != 0x7f) {
			e[0] = (char)c;
			return 1;
		}
		e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
		return 4;
	}
}

static size_t escaped_len(const unsigned char *p)
{
	char e[4];
	size_t n = 0;
	for (; *p; p++)
		n += escape_char(*p, e);
	return n;
}

size_t log_escape(char *dst, size_t size, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = 0;
	if (size < 4) {
		if (size)
			dst[0] = 0;
		return 0;
	}
	for (; *p; p++) {
		char e[4];
		size_t k = escape_char(*p, e);
		/* keep room for "..." until the rest is known to fit */
		if (n + k + 3 + 1 > size && n + escaped_len(p) + 1 > size) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(dst + n, e, k);
		n += k;
	}
	dst[n] = 0;
	return n;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX + 1];
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
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < (int)sizeof(line) - 1)
		n += (int)log_escape(line + n, sizeof(line) - 1 - (size_t)n, raw);
	line[n++] = '\n';
	ssize_t w = write(log_fd, line, (size_t)n);
	(void)w;
}

/* Optional logging (logLevel/logFile keys): off by default, never on stdout. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_OFF, LOG_LVL_ERROR, LOG_LVL_WARNING, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* The level named LEVEL (error, panic, warning, warn, info, debug; any case), NULL:
 * info. -EINVAL for an unknown name (the caller reports the key). */
int log_level_parse(const char *level, enum log_level *ret);
/* Log at LEVEL into FD (a file the caller opened, or STDERR_FILENO); the log owns FD. */
void log_start(enum log_level level, int fd);
/* While pinned, log_start changes nothing: an IPAM run in-process writes to its plugin's log. */
void log_pin(bool on);
bool log_pinned(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Copies SRC into DST (SIZE bytes, NUL-terminated) with backslash, every control
 * character and DEL escaped: \n \r \t \\ and \xNN. An escape is never cut: when SRC
 * does not fit, the copy ends before the escape or character that does not, followed by
 * "..." (SIZE >= 4). Returns the length written. */
size_t log_escape(char *dst, size_t size, const char *src);

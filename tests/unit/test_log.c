/* Log lines (lib/cni/log.c): the line format, levels, escaping, long messages; and the
 * logFile rules of the node settings (lib/base/node.c) as a config meets them. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixture.h"
#include "unit.h"

#include "ucni/log.h"
#include "ucni/node.h"

static char log_path[512];

static int setup(void **state)
{
	if (test_dir_make(state) < 0)
		return -1;
	cni_error_reset();
	path_of(log_path, sizeof(log_path), "test.log");
	return 0;
}

static int teardown(void **state)
{
	log_start(LOG_LVL_OFF, -1);
	unsetenv(NODE_SETTINGS_ENV);
	node_reset();
	cni_error_reset();
	return test_dir_remove(state);
}

/* Log at LEVEL into a new log file. */
static void start(enum log_level level)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	log_start(level, fd);
}

/* What was logged ("" when nothing). */
static char *logged(void)
{
	char *s = slurp(log_path);
	return s ? s : strdup("");
}

static size_t lines_in(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void assert_matches(const char *s, const char *re)
{
	regex_t rx;
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	int r = regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	if (r != 0)
		fail_msg("\"%s\" does not match /%s/", s, re);
}

/* "<UTC time, ms> [<pid>] <level>: <message>" and a newline. */
static void line_format(void **state)
{
	char re[256];
	(void)state;
	start(LOG_LVL_INFO);
	log_info("ADD %s: macvlan %s on %s", "ctr1", "eth0", "m0");
	char *s = logged();
	snprintf(re, sizeof(re),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z \\[%d\\] info: ADD ctr1: macvlan eth0 on m0\n$",
		 (int)getpid());
	assert_matches(s, re);
	free(s);
}

/* A level logs itself and what is more severe; off (or no file) logs nothing. */
static void levels(void **state)
{
	(void)state;
	log_error("before the start: %d", 1);
	start(LOG_LVL_WARNING);
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	char *s = logged();
	assert_int_equal(lines_in(s), 2);
	assert_non_null(strstr(s, " error: e\n"));
	assert_non_null(strstr(s, " warning: w\n"));
	assert_null(strstr(s, "before the start"));
	free(s);

	log_start(LOG_LVL_OFF, -1);
	log_error("after the end");
	start(LOG_LVL_DEBUG);
	log_debug("d");
	s = logged();
	assert_int_equal(lines_in(s), 3);
	assert_null(strstr(s, "after the end"));
	assert_non_null(strstr(s, " debug: d\n"));
	free(s);

	enum log_level l = LOG_LVL_OFF;
	const struct {
		const char *name;
		enum log_level level;
	} names[] = {{"error", LOG_LVL_ERROR}, {"PANIC", LOG_LVL_ERROR},   {"Warning", LOG_LVL_WARNING},
		     {"warn", LOG_LVL_WARNING}, {"info", LOG_LVL_INFO},    {"DEBUG", LOG_LVL_DEBUG},
		     {NULL, LOG_LVL_INFO}};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		assert_int_equal(log_level_parse(names[i].name, &l), 0);
		assert_int_equal(l, names[i].level);
	}
	assert_int_equal(log_level_parse("loud", &l), -EINVAL);
	assert_int_equal(log_level_parse("", &l), -EINVAL);
}

/* Values from a config cannot end a line or start another: one event, one line. */
static void escaping(void **state)
{
	(void)state;
	start(LOG_LVL_INFO);
	log_info("master %s", "m0\nssh-rsa AAAA evil@x\r\t\\ \x01\x1b[2J\x7f done");
	log_info("utf-8 %s", "caf\xc3\xa9");
	char *s = logged();
	assert_int_equal(lines_in(s), 2);
	assert_non_null(strstr(s, " info: master m0\\nssh-rsa AAAA evil@x\\r\\t\\\\ \\x01\\x1b[2J\\x7f done\n"));
	/* bytes above 0x7f are kept: UTF-8 stays readable */
	assert_non_null(strstr(s, " info: utf-8 caf\xc3\xa9\n"));
	free(s);
}

/* A message longer than a line (1024 bytes) is cut where an escape begins, and the cut
 * is marked with "..."; a message that fits is whole. */
static void long_messages(void **state)
{
	char big[5000];
	(void)state;
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	start(LOG_LVL_INFO);
	log_info("value %s", big);
	char *s = logged();
	size_t n = strlen(s);
	assert_int_equal(lines_in(s), 1);
	assert_true(n <= 1024);
	assert_true(n > 900);
	assert_string_equal(s + n - 6, "vv...\n");
	free(s);

	/* escapes are not split at the cut */
	assert_int_equal(truncate(log_path, 0), 0);
	memset(big, '\n', sizeof(big) - 1);
	log_info("%s", big);
	s = logged();
	n = strlen(s);
	assert_int_equal(lines_in(s), 1);
	assert_true(n <= 1024);
	assert_string_equal(s + n - 6, "\\n...\n");
	free(s);

	/* what fits is not cut */
	assert_int_equal(truncate(log_path, 0), 0);
	big[0] = 0;
	for (int i = 0; i < 90; i++)
		strcat(big, "0123456789");
	log_info("%s|end", big);
	s = logged();
	assert_non_null(strstr(s, "0123456789|end\n"));
	assert_null(strstr(s, "..."));
	free(s);
}

/* The node settings file of the test: logDirs as given (JSON), root's, mode 0644. */
static void node_settings(const char *log_dirs)
{
	char p[512];
	if (geteuid() != 0)
		skip(); /* the node file must be root's */
	path_of(p, sizeof(p), "node.json");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "{\"logDirs\": %s}", log_dirs);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, 0644), 0);
	setenv(NODE_SETTINGS_ENV, p, 1);
	node_reset();
}

/* node_open of a logFile: -EPERM and the reason containing WHY. */
static void assert_refused(const char *rel, const char *why)
{
	char p[512];
	const char *got = NULL;
	int fd = -1;
	path_of(p, sizeof(p), rel);
	int r = node_open(NODE_LOG_DIRS, p, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &got);
	if (r != -EPERM || !got || !strstr(got, why))
		fail_msg("logFile %s: %d \"%s\", want -EPERM \"%s\"", rel, r, got ? got : "", why);
}

/* Inside the log directories only, never through a link, only a regular file. */
static void log_file_rules(void **state)
{
	char p[512], q[512], dirs[600];
	const char *why = NULL;
	int fd = -1;
	(void)state;
	path_of(p, sizeof(p), "logs");
	snprintf(dirs, sizeof(dirs), "[\"%s/logs\"]", test_dir);
	node_settings(dirs);
	assert_int_equal(mkdir(p, 0700), 0);
	path_of(p, sizeof(p), "logs/sub");
	assert_int_equal(mkdir(p, 0700), 0);

	/* a subdirectory, written lexically odd: accepted */
	path_of(p, sizeof(p), "logs//sub/./a.log");
	assert_int_equal(node_open(NODE_LOG_DIRS, p, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why), 0);
	close(fd);
	path_of(p, sizeof(p), "logs/sub/a.log");
	assert_int_equal(access(p, F_OK), 0);

	path_of(q, sizeof(q), "outside.log");
	close(open(q, O_WRONLY | O_CREAT, 0600));
	path_of(p, sizeof(p), "logs/link.log");
	assert_int_equal(symlink(q, p), 0);
	assert_refused("logs/link.log", "is a symbolic link");
	path_of(p, sizeof(p), "logs/linkdir");
	path_of(q, sizeof(q), "elsewhere");
	assert_int_equal(mkdir(q, 0700), 0);
	assert_int_equal(symlink(q, p), 0);
	assert_refused("logs/linkdir/x.log", "lies beneath a symbolic link");
	path_of(p, sizeof(p), "logs/fifo.log");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_refused("logs/fifo.log", "is not a regular file");
	assert_refused("logs/sub", "is not a regular file");
	assert_refused("logs", "is not a regular file");
	path_of(p, sizeof(p), "logs/hard.log");
	path_of(q, sizeof(q), "outside.log");
	assert_int_equal(link(q, p), 0);
	assert_refused("logs/hard.log", "more than one hard link");
	assert_refused("outside.log", "is outside the log directories the node allows");
	assert_refused("logs/../outside.log", "without \"..\"");
	/* an allowed place whose directory is missing: an error, not a refusal */
	path_of(p, sizeof(p), "logs/missing/x.log");
	assert_int_equal(node_open(NODE_LOG_DIRS, p, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why), -ENOENT);

	/* an empty list allows nothing */
	node_settings("[]");
	assert_refused("logs/sub/a.log", "(none)");
	/* no settings file: the default directory */
	path_of(p, sizeof(p), "no-such-node.json");
	setenv(NODE_SETTINGS_ENV, p, 1);
	node_reset();
	assert_string_equal(node_dirs_str(NODE_LOG_DIRS), NODE_LOG_DIR_DEFAULT);
	assert_refused("logs/sub/a.log", "(" NODE_LOG_DIR_DEFAULT ")");
}

/* Parse CONFIG with stderr into the file ERR; 0 or the parse's error. */
static int parse_logging(const char *config, const char *err)
{
	struct cni_conf c = {0};
	char *raw = strdup(config);
	assert_non_null(raw);
	stderr_to(err);
	int r = cni_conf_parse(&c, raw, strlen(raw));
	stderr_restore();
	cni_conf_free(&c);
	return r;
}

/* A config's logFile: an allowed one gets the lines; a refused one is ignored with a
 * warning on stderr, and the config is still good. */
static void log_file_from_config(void **state)
{
	char p[512], err[512], dirs[600], conf[1024];
	(void)state;
	snprintf(dirs, sizeof(dirs), "[\"%s/logs\"]", test_dir);
	node_settings(dirs);
	path_of(p, sizeof(p), "logs");
	assert_int_equal(mkdir(p, 0700), 0);
	path_of(err, sizeof(err), "stderr");

	snprintf(conf, sizeof(conf),
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logLevel\":\"debug\",\"logFile\":\"%s/logs/ucni.log\"}",
		 test_dir);
	assert_int_equal(parse_logging(conf, err), 0);
	log_debug("to %s", "the file");
	path_of(p, sizeof(p), "logs/ucni.log");
	char *s = slurp(p);
	assert_non_null(s);
	assert_non_null(strstr(s, " debug: to the file\n"));
	free(s);
	s = slurp(err);
	assert_string_equal(s, "");
	free(s);

	log_start(LOG_LVL_OFF, -1);
	snprintf(conf, sizeof(conf),
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logLevel\":\"debug\",\"logFile\":\"%s/evil\\nx.log\"}",
		 test_dir);
	assert_int_equal(parse_logging(conf, err), 0);
	log_debug("nowhere");
	s = slurp(err);
	assert_non_null(s);
	/* the warning is one line: the name is escaped */
	assert_int_equal(lines_in(s), 1);
	assert_non_null(strstr(s, "/evil\\nx.log ignored: "));
	assert_non_null(strstr(s, "not logging"));
	assert_null(strstr(s, "nowhere"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(levels, setup, teardown),
		cmocka_unit_test_setup_teardown(escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(long_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(log_file_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(log_file_from_config, setup, teardown),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}

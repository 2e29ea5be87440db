/* The IPAM exchange (lib/cni/ipam.c) with real plugins: small shell scripts written into
 * the test's directory, which is CNI_PATH. Each script finds that directory in $FAKE_DIR
 * and leaves its traces there: "calls" gets a line per verb, "pids" the pid of each run
 * (the id of its process group), "in.VERB" its stdin, "env.VERB" its environment.
 * Timeouts leave a script time to start on a loaded machine, and time bounds are
 * generous: they tell a kill on a limit from one at the default timeout of 60 s, nothing
 * finer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fixture.h"
#include "unit.h"

#include "ucni/ipam.h"
#include "ucni/result.h"

static struct cni_ctx ctx;
static struct cni_result *res;

/* The first lines of every plugin: it notes its pid, verb and environment; a DEL notes its
 * stdin and succeeds. READ_STDIN notes the stdin of another verb. */
#define PROLOGUE                                                                                   \
	"#!/bin/sh\n"                                                                              \
	"echo $$ >>\"$FAKE_DIR/pids\"\n"                                                           \
	"echo \"$CNI_COMMAND\" >>\"$FAKE_DIR/calls\"\n"                                            \
	"env >\"$FAKE_DIR/env.$CNI_COMMAND\"\n"                                                    \
	"if [ \"$CNI_COMMAND\" = DEL ]; then cat >\"$FAKE_DIR/in.DEL\"; exit 0; fi\n"
#define READ_STDIN "cat >\"$FAKE_DIR/in.$CNI_COMMAND\"\n"
#define RESULT "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"}]}"
#define CONFIG "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"macvlan\",\"ipam\":{\"type\":\"fake\"}}"

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The plugin "fake" in the test's directory runs SCRIPT. */
static void plugin(const char *script)
{
	char p[512];
	path_of(p, sizeof(p), "fake");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(script, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, 0755), 0);
}

static char *trace(const char *name)
{
	char p[512];
	path_of(p, sizeof(p), name);
	return slurp(p);
}

static void forget_calls(void)
{
	char p[512];
	path_of(p, sizeof(p), "calls");
	unlink(p);
}

/* The verbs the plugin was called with, space-separated ("" for none). */
static void assert_calls(const char *want)
{
	char *s = trace("calls");
	char got[128] = "";
	for (char *t = s ? strtok(s, "\n") : NULL; t; t = strtok(NULL, "\n"))
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", got[0] ? " " : "", t);
	free(s);
	assert_string_equal(got, want);
}

/* No process of any group the plugin ran in is left, not even a zombie. */
static void assert_groups_gone(void)
{
	char *s = trace("pids");
	assert_non_null(s);
	for (char *t = strtok(s, "\n"); t; t = strtok(NULL, "\n")) {
		pid_t g = (pid_t)atoi(t);
		if (kill(-g, 0) == 0 || errno != ESRCH)
			fail_msg("process group %d of the plugin is still there", (int)g);
	}
	free(s);
}

static const char *details(void)
{
	static char buf[256];
	cJSON *e = cni_error_json(NULL);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "details");
	snprintf(buf, sizeof(buf), "%s", cJSON_IsString(d) ? d->valuestring : "");
	cJSON_Delete(e);
	return buf;
}

static int setup(void **state)
{
	char *raw = strdup(CONFIG);
	if (test_dir_make(state) < 0 || !raw)
		return -1;
	cni_error_reset();
	unsetenv("UCNI_IPAM_TIMEOUT_MS");
	setenv("FAKE_DIR", test_dir, 1);
	ctx = (struct cni_ctx){.env.path = test_dir};
	return cni_conf_parse(&ctx.conf, raw, strlen(raw));
}

static int teardown(void **state)
{
	cni_result_free(res);
	res = NULL;
	cni_conf_free(&ctx.conf);
	cni_error_reset();
	return test_dir_remove(state);
}

static void result_taken_over(void **state)
{
	char buf[IP_PREFIX_STRLEN];
	(void)state;
	plugin(PROLOGUE READ_STDIN "echo '" RESULT "'\n");
	assert_int_equal(ipam_add(&ctx, &res), 0);
	assert_false(cni_failed());
	assert_non_null(res);
	assert_int_equal(res->n_ips, 1);
	assert_string_equal(ip_prefix_format(&res->ips[0].address, buf, sizeof(buf)), "10.1.2.3/24");
	assert_true(res->ips[0].has_gateway);
	/* the config as received, on stdin; one call, no DEL */
	char *in = trace("in.ADD");
	assert_non_null(in);
	assert_string_equal(in, CONFIG);
	free(in);
	assert_calls("ADD");
	assert_groups_gone();
}

/* The plugin's CNI error is this invocation's: its code, its msg, its details. A DEL
 * follows with the same stdin, and the ADD's error stays the one reported. */
static void error_passed_on(void **state)
{
	(void)state;
	plugin(PROLOGUE READ_STDIN
	       "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no addresses left\",\"details\":\"pool empty\"}'\n"
	       "exit 1\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_null(res);
	assert_error(CNI_ERR_TRY_AGAIN, "IPAM plugin \"fake\": no addresses left");
	assert_string_equal(details(), "pool empty");
	assert_calls("ADD DEL");
	char *in = trace("in.DEL");
	assert_non_null(in);
	assert_string_equal(in, CONFIG);
	free(in);
	assert_groups_gone();
}

/* A failed exit without a CNI error: code 101, the exit status, the output as details. */
static void exit_status_without_json(void **state)
{
	(void)state;
	plugin(PROLOGUE READ_STDIN "echo 'disk on fire'\nexit 3\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_IPAM, "IPAM plugin \"fake\" ADD failed with exit status 3");
	assert_non_null(strstr(details(), "disk on fire"));
	assert_calls("ADD DEL");

	cni_error_reset();
	forget_calls();
	plugin(PROLOGUE READ_STDIN "kill -KILL $$\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_IPAM, "IPAM plugin \"fake\" ADD was killed by signal 9");
	assert_calls("ADD DEL");

	/* success without a JSON object is no result either */
	cni_error_reset();
	plugin(PROLOGUE READ_STDIN "echo 'this is not json'\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_IPAM, "printed a result that is not a JSON object");
	assert_groups_gone();
}

/* More than 1 MiB of output: the group is killed at once, not at the timeout (60 s). */
static void flood_killed(void **state)
{
	(void)state;
	/* the writer is a child of the script, in its group */
	plugin(PROLOGUE READ_STDIN "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx &\necho $! >\"$FAKE_DIR/writer\"\nwait\n");
	long long t0 = mono_ms();
	assert_true(ipam_add(&ctx, &res) < 0);
	long long took = mono_ms() - t0;
	assert_error(CNI_ERR_IPAM, "IPAM plugin \"fake\" printed more than 1048576 bytes (1 MiB) on ADD; it was killed");
	if (took > 10000)
		fail_msg("the flood was stopped after %lld ms", took);
	char *w = trace("writer");
	assert_non_null(w);
	assert_int_equal(kill((pid_t)atoi(w), 0), -1);
	free(w);
	assert_calls("ADD DEL");
	assert_groups_gone();
}

/* Past UCNI_IPAM_TIMEOUT_MS the group is killed, also what the plugin started. */
static void timeout_kills_group(void **state)
{
	(void)state;
	setenv("UCNI_IPAM_TIMEOUT_MS", "1000", 1);
	plugin(PROLOGUE READ_STDIN "sleep 30 &\necho $! >\"$FAKE_DIR/sleeper\"\nwait\n");
	long long t0 = mono_ms();
	assert_true(ipam_add(&ctx, &res) < 0);
	long long took = mono_ms() - t0;
	assert_error(CNI_ERR_IPAM, "IPAM plugin \"fake\" timed out: ADD did not finish within 1000 ms; it was killed");
	if (took < 1000 || took > 8000)
		fail_msg("a 1000 ms timeout took %lld ms", took);
	char *s = trace("sleeper");
	assert_non_null(s);
	assert_int_equal(kill((pid_t)atoi(s), 0), -1);
	free(s);
	assert_calls("ADD DEL"); /* the DEL has its own timeout */
	assert_groups_gone();
}

/* An answer, then the output closed and no exit: the answer is not used. */
static void linger_answer_dropped(void **state)
{
	(void)state;
	setenv("UCNI_IPAM_TIMEOUT_MS", "2000", 1);
	plugin(PROLOGUE READ_STDIN "echo '" RESULT "'\nexec >&-\nsleep 30\n");
	long long t0 = mono_ms();
	assert_true(ipam_add(&ctx, &res) < 0);
	long long took = mono_ms() - t0;
	assert_null(res);
	assert_error(CNI_ERR_IPAM, "IPAM plugin \"fake\" timed out: it closed its output but did not exit within 2000 ms "
				   "of ADD; it was killed and its answer not used");
	if (took > 10000)
		fail_msg("a 2000 ms timeout took %lld ms", took);
	assert_calls("ADD DEL");
	assert_groups_gone();
}

/* A NUL in an answer (escaped or raw) is a decode error naming where it is. */
static void nul_in_answer(void **state)
{
	(void)state;
	plugin(PROLOGUE READ_STDIN
	       "echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.2.3/24\\u0000x\"}]}'\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_null(res);
	assert_error(CNI_ERR_DECODE, "IPAM plugin \"fake\" printed an answer to ADD holding a NUL (\\u0000) at byte 52 "
				     "in ips[0].address");
	assert_calls("ADD DEL");

	cni_error_reset();
	plugin(PROLOGUE READ_STDIN "printf '{\"cniVersion\":\"1.0.0\",\"ips\":[]}\\000'\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_DECODE, "holding a NUL (a NUL byte) at byte 31");

	/* an error whose msg a NUL would cut is not taken over as it stands */
	cni_error_reset();
	plugin(PROLOGUE READ_STDIN "echo '{\"code\":11,\"msg\":\"ok\\u0000 really not\"}'\nexit 1\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_IPAM, "ADD failed with exit status 1");
	assert_groups_gone();
}

/* Stdin larger than a pipe holds reaches a plugin that starts reading late, whole. */
static void slow_reader_gets_all(void **state)
{
	size_t len = 300000;
	char *data = malloc(len + 1);
	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	data[len] = 0;
	plugin(PROLOGUE "sleep 0.5\n" READ_STDIN "echo '" RESULT "'\n");
	assert_int_equal(ipam_exec(&ctx, CNI_ADD, data, len, &res), 0);
	char *in = trace("in.ADD");
	assert_non_null(in);
	assert_int_equal(strlen(in), len);
	assert_true(memcmp(in, data, len) == 0);
	free(in);
	free(data);
}

/* A plugin that answers without reading a large stdin: its answer counts. SIGPIPE is
 * ignored here as cni_main() ignores it; the plugin gets it back (the default). */
static void answer_without_reading(void **state)
{
	size_t len = 300000;
	char *data = malloc(len);
	(void)state;
	assert_non_null(data);
	memset(data, ' ', len);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	plugin(PROLOGUE "echo '{\"code\":11,\"msg\":\"gone early\"}'\nexit 1\n");
	int r = ipam_exec(&ctx, CNI_ADD, data, len, &res);
	signal(SIGPIPE, old);
	free(data);
	assert_true(r < 0);
	assert_error(CNI_ERR_TRY_AGAIN, "IPAM plugin \"fake\": gone early");
	assert_calls("ADD DEL");
	assert_groups_gone();
}

/* The plugin gets this process's environment with CNI_COMMAND set to the verb run. */
static void environment(void **state)
{
	(void)state;
	setenv("CNI_COMMAND", "CHECK", 1);
	setenv("CNI_CONTAINERID", "ctr-env", 1);
	setenv("CNI_IFNAME", "net7", 1);
	plugin(PROLOGUE READ_STDIN "echo '" RESULT "'\n");
	assert_int_equal(ipam_add(&ctx, &res), 0);
	assert_int_equal(ipam_forward(&ctx, CNI_DEL), 0);
	char *add = trace("env.ADD"), *del = trace("env.DEL");
	assert_non_null(add);
	assert_non_null(del);
	assert_non_null(strstr(add, "CNI_COMMAND=ADD\n"));
	assert_null(strstr(add, "CNI_COMMAND=CHECK"));
	assert_non_null(strstr(add, "CNI_CONTAINERID=ctr-env\n"));
	assert_non_null(strstr(add, "CNI_IFNAME=net7\n"));
	assert_non_null(strstr(del, "CNI_COMMAND=DEL\n"));
	assert_calls("ADD DEL");
	free(add);
	free(del);
	unsetenv("CNI_COMMAND");
	unsetenv("CNI_CONTAINERID");
	unsetenv("CNI_IFNAME");
}

/* The plugin's stderr is this process's (the runtime's log), never part of its answer. */
static void stderr_passed_through(void **state)
{
	char p[512];
	(void)state;
	path_of(p, sizeof(p), "stderr");
	plugin(PROLOGUE READ_STDIN "echo 'a note for the log' >&2\necho '" RESULT "'\n");
	stderr_to(p);
	int r = ipam_add(&ctx, &res);
	stderr_restore();
	assert_int_equal(r, 0);
	assert_int_equal(res->n_ips, 1);
	char *s = slurp(p);
	assert_non_null(s);
	assert_string_equal(s, "a note for the log\n");
	free(s);
}

/* A plugin older than the config (code 1) is asked which versions it speaks and run
 * again with the newest older one: the config it then gets says that version. */
static void older_plugin(void **state)
{
	char *raw = strdup("{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"macvlan\",\"ipam\":{\"type\":\"fake\"}}");
	(void)state;
	assert_non_null(raw);
	cni_conf_free(&ctx.conf);
	assert_int_equal(cni_conf_parse(&ctx.conf, raw, strlen(raw)), 0);
	plugin(PROLOGUE READ_STDIN
	       "case \"$CNI_COMMAND\" in VERSION) echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}'; exit 0;; esac\n"
	       "if grep -q '\"1.1.0\"' \"$FAKE_DIR/in.ADD\"; then echo '{\"code\":1,\"msg\":\"incompatible\"}'; exit 1; fi\n"
	       "echo '" RESULT "'\n");
	assert_int_equal(ipam_add(&ctx, &res), 0);
	assert_false(cni_failed());
	assert_int_equal(res->n_ips, 1);
	assert_calls("ADD VERSION ADD");
	char *in = trace("in.ADD");
	assert_non_null(in);
	assert_non_null(strstr(in, "\"cniVersion\":\"1.0.0\""));
	free(in);
	assert_groups_gone();
}

/* Not there: no plugin ran, so no DEL follows. */
static void not_found(void **state)
{
	(void)state;
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\": no plugin \"fake\" in CNI_PATH");
	assert_calls("");
}

/* There but not startable (its interpreter is missing): no DEL either. */
static void not_startable(void **state)
{
	(void)state;
	/* valgrind runs a CLONE_VFORK child as a fork and dies with a failed execve */
	if (strstr(getenv("LD_PRELOAD") ?: "", "vgpreload"))
		skip();
	plugin("#!/nonexistent/interpreter\n");
	assert_true(ipam_add(&ctx, &res) < 0);
	assert_error(CNI_ERR_IPAM, "IPAM plugin \"fake\" could not be started");
	assert_calls("");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(result_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(error_passed_on, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_status_without_json, setup, teardown),
		cmocka_unit_test_setup_teardown(flood_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_kills_group, setup, teardown),
		cmocka_unit_test_setup_teardown(linger_answer_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(nul_in_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(slow_reader_gets_all, setup, teardown),
		cmocka_unit_test_setup_teardown(answer_without_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(environment, setup, teardown),
		cmocka_unit_test_setup_teardown(stderr_passed_through, setup, teardown),
		cmocka_unit_test_setup_teardown(older_plugin, setup, teardown),
		cmocka_unit_test_setup_teardown(not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(not_startable, setup, teardown),
	};
	return cmocka_run_group_tests_name("ipam exchange", tests, NULL, NULL);
}

/* Network configuration: common keys and the typed accessors' errors; the node settings'
 * directories (log, device-info, data) and the removal of a device-info file beneath them. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixture.h"
#include "unit.h"
#include "ucni/devinfo.h"
#include "ucni/jsoncheck.h"
#include "ucni/log.h"
#include "ucni/node.h"
#include "ucni/result.h"

static struct cni_conf conf;

static int parse(const char *json)
{
	cni_conf_free(&conf);
	cni_error_reset();
	char *raw = strdup(json);
	return cni_conf_parse(&conf, raw, strlen(raw));
}

static int teardown(void **s)
{
	cni_conf_free(&conf);
	return 0;
}

static void minimal(void **s)
{
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"macvlan\"}"), 0);
	assert_int_equal(conf.version, CNI_V100);
	assert_string_equal(conf.name, "n");
	assert_null(conf.ipam);
	assert_null(conf.prev);
}

static void every_version(void **s)
{
	const char *v[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
	for (int i = 0; i < 5; i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "{\"cniVersion\":\"%s\",\"name\":\"n\"}", v[i]);
		assert_int_equal(parse(buf), 0);
		assert_int_equal(conf.version, i);
	}
}

static void decode_errors(void **s)
{
	const char *bad[] = {"", "   \n", "{", "[1,2]", "\"str\"", "{\"cniVersion\":\"1.0.0\",}", "nul"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_true(parse(bad[i]) < 0);
		assert_int_equal(cni_error_code(), CNI_ERR_DECODE);
	}
}

static void version_errors(void **s)
{
	assert_true(parse("{\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"cniVersion\" is missing");
	assert_true(parse("{\"cniVersion\":\"0.2.0\",\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INCOMPATIBLE_VERSION, "\"0.2.0\"");
	assert_true(parse("{\"cniVersion\":\"9.9.9\",\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INCOMPATIBLE_VERSION, "9.9.9");
	assert_true(parse("{\"cniVersion\":1,\"name\":\"n\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"cniVersion\" must be a string");
}

static void name_errors(void **s)
{
	assert_true(parse("{\"cniVersion\":\"1.0.0\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"name\" is missing");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"name\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":5}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"name\" must be a string, got 5");
}

static void ipam(void **s)
{
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{}}"), 0);
	assert_null(conf.ipam_type);
	/* an empty type is not "no IPAM": that is "ipam": {} */
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" is empty");
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"}}"), 0);
	assert_string_equal(conf.ipam_type, "host-local");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"../../bin/sh\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" value \"../../bin/sh\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"..\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "ipam.type");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"subnet\":\"10.0.0.0/8\"}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" is missing");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":\"static\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam\" must be an object");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":7}}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.type\" must be a string, got 7");
}

static void objects(void **s)
{
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"dns\":[]}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"dns\" must be an object");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"runtimeConfig\":1}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"runtimeConfig\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":[]}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"prevResult\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logLevel\":\"loud\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"logLevel\" value \"loud\"");
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logFile\":\"rel/x.log\"}") < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"logFile\" value \"rel/x.log\" must be an absolute path");
}

/* cJSON decodes \u0000 and cuts the string there: every such string is refused. */
static void nul_in_strings(void **s)
{
	static const struct {
		const char *json, *needle;
	} cases[] = {
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"static\\u0000x\"}}", "\"ipam.type\""},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\\u0000x\"}", "\"name\""},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"master\":\"m0\\u0000evil\"}", "\"master\""},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"runtimeConfig\":{\"mac\":\"x\",\"deviceID\":\"a\\u0000\"}}",
		 "\"runtimeConfig.deviceID\""},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"interfaces\":[{\"name\":\"a\"},"
		 "{\"name\":\"eth0\",\"sandbox\":\"/x\\u0000y\"}]}}", "\"prevResult.interfaces[1].sandbox\""},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"args\":{\"cni\":{\"ips\":[\"10.0.0.1\",\"\\u0000\"]}}}",
		 "\"args.cni.ips[1]\""},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"x\\u0000y\":1}", "a key of the top-level object"},
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"a\":1,\"t\\u0000\":1}}", "a key of \"ipam\""},
		/* upper-case hex is the same escape */
		{"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mode\":\"\\u0000\"}", "\"mode\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (parse(cases[i].json) >= 0)
			fail_msg("case %zu accepted", i);
		assert_error(CNI_ERR_DECODE, cases[i].needle);
		assert_error(CNI_ERR_DECODE, "escaped NUL");
	}
	/* "\\u0000" is a backslash followed by text; other escapes stay allowed */
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"a\\\\u0000b\",\"x\":\"\\u0001\\\\\\\\\"}"), 0);
	assert_string_equal(conf.name, "a\\u0000b");
	/* the offset is the backslash's */
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"master\":\"\\u0000\"}") < 0);
	assert_error(CNI_ERR_DECODE, "at byte 43");
}

/* cJSON copies a raw NUL byte inside a string as it is: cut there too */
static void nul_bytes(void **s)
{
	static const char text[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"master\":\"m0\0evil\"}";
	cni_conf_free(&conf);
	char *raw = malloc(sizeof(text));
	memcpy(raw, text, sizeof(text));
	assert_true(cni_conf_parse(&conf, raw, sizeof(text) - 1) < 0);
	assert_error(CNI_ERR_DECODE, "\"master\" holds a NUL byte at byte 45");
	/* after the object too */
	static const char tail[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}\0x";
	cni_conf_free(&conf);
	cni_error_reset();
	raw = malloc(sizeof(tail));
	memcpy(raw, tail, sizeof(tail));
	assert_true(cni_conf_parse(&conf, raw, sizeof(tail) - 1) < 0);
	assert_error(CNI_ERR_DECODE, "NUL byte");
}

static void nul_scanner(void **s)
{
	struct json_nul n;
	assert_true(json_find_nul("[\"a\0\"]", 5, &n));
	assert_true(n.raw);
	assert_int_equal(n.offset, 3);
	assert_false(json_find_nul("", 0, &n));
	assert_false(json_find_nul("\"\\\\u0000\"", 9, &n));
	assert_true(json_find_nul("\"\\\\\\u0000\"", 10, &n));
	assert_int_equal(n.offset, 3);
	assert_false(n.raw);
	assert_false(json_find_nul("\"\\u000\"", 7, &n)); /* too short */
	assert_false(json_find_nul("\"\\u0000", 6, &n));   /* cut by the length */
	assert_true(json_find_nul("[1,[2,{\"a\":[\"\\u0000\"]}]]", 23, &n));
	assert_string_equal(n.path, "[1][1].a[0]");
	assert_true(json_find_nul("{\"a\":{\"b\":1},\"c\":\"\\u0000\"}", 25, &n));
	assert_string_equal(n.path, "c");
	assert_false(n.in_key);
	/* deeper than the named levels: still found */
	char deep[256] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	strcat(deep, "\"\\u0000\"");
	assert_true(json_find_nul(deep, strlen(deep), &n));
	assert_non_null(strstr(n.path, "..."));
}

static void log_escaping(void **s)
{
	char buf[64];
	assert_int_equal(log_escape(buf, sizeof(buf), "m0\nssh-rsa AAAA\r\t\\\x01\x7f"), 30);
	assert_string_equal(buf, "m0\\nssh-rsa AAAA\\r\\t\\\\\\x01\\x7f");
	/* a cut never splits an escape and is marked */
	char small[10];
	log_escape(small, sizeof(small), "abcd\x01zzzzzz");
	assert_string_equal(small, "abcd...");
	log_escape(small, sizeof(small), "abcdef\n"); /* fits exactly */
	assert_string_equal(small, "abcdef\\n");
	log_escape(small, 8, "abcdef\n");
	assert_string_equal(small, "abcd...");
	log_escape(small, sizeof(small), "abcdef\\n"); /* fits exactly: no marker */
	assert_string_equal(small, "abcdef\\\\n");
	log_escape(small, sizeof(small), "a\n\n\n\n\n");
	assert_string_equal(small, "a\\n\\n...");
	assert_int_equal(log_escape(small, 4, "abcdef"), 3);
	assert_string_equal(small, "...");
}

static void path_normalize(void **s)
{
	char buf[64];
	assert_int_equal(node_path_normalize("/var//log/./ucni/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/log/ucni");
	assert_int_equal(node_path_normalize("/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(node_path_normalize("/var/log/ucni/../../root/x", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(node_path_normalize("/var/log/..", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(node_path_normalize("var/log", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(node_path_normalize("/var/log/a\nb", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(node_path_normalize("/var/log/..a", buf, sizeof(buf)), 0);
	assert_int_equal(node_path_normalize("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", buf,
						 sizeof(buf)), -ENAMETOOLONG);
}

/* The node settings file <test_dir>/node.json (root's, 0644) written from FMT…, named by
 * NODE_SETTINGS_ENV and loaded afresh at its next use; its path stays in node_file. */
static char node_file[300];
static void node_settings(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void node_settings(const char *fmt, ...)
{
	va_list ap;
	snprintf(node_file, sizeof(node_file), "%s/node.json", test_dir);
	FILE *f = fopen(node_file, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(node_file, 0644), 0);
	setenv(NODE_SETTINGS_ENV, node_file, 1);
	node_reset();
}

/* logFile through the node settings: inside the allowed directory only. */
static void log_file_rules(void **s)
{
	char json[600], path[600];
	if (geteuid() != 0)
		skip(); /* the node file must be root's */
	snprintf(path, sizeof(path), "%s/logs", test_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	node_settings("{\"logDirs\": [\"%s/logs\"]}", test_dir);

	snprintf(json, sizeof(json), "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logFile\":\"%s/logs/a.log\"}", test_dir);
	assert_int_equal(parse(json), 0);
	snprintf(path, sizeof(path), "%s/logs/a.log", test_dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* refused paths are ignored (a warning on stderr): the parse goes on, nothing is made */
	int fd = -1;
	const char *why = NULL;
	snprintf(json, sizeof(json), "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logFile\":\"%s/other.log\"}", test_dir);
	assert_int_equal(parse(json), 0);
	snprintf(path, sizeof(path), "%s/other.log", test_dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(node_open(NODE_LOG_DIRS, path, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "is outside the log directories the node allows"));
	assert_int_equal(access(path, F_OK), -1);

	snprintf(json, sizeof(json), "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"logFile\":\"%s/logs/../x.log\"}", test_dir);
	assert_int_equal(parse(json), 0);
	snprintf(path, sizeof(path), "%s/logs/../x.log", test_dir);
	assert_int_equal(node_open(NODE_LOG_DIRS, path, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "without \"..\""));
	snprintf(path, sizeof(path), "%s/x.log", test_dir);
	assert_int_equal(access(path, F_OK), -1);

	/* a group-writable node file is refused, not read */
	chmod(node_file, 0664);
	node_reset();
	snprintf(path, sizeof(path), "%s/logs/a.log", test_dir);
	assert_int_equal(node_open(NODE_LOG_DIRS, path, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "writable by root alone"));
	/* a node file with an unknown key is refused too */
	node_settings("{\"logdirs\": []}");
	assert_int_equal(node_open(NODE_LOG_DIRS, path, O_WRONLY | O_APPEND | O_CREAT, 0600, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "unknown key"));
	unsetenv(NODE_SETTINGS_ENV);
	node_reset();
	log_start(LOG_LVL_OFF, -1);
}

/* "sriovDeviceIDs": "any" by default and when given so, "pools" when given so; any other
 * value leaves no policy (-EPERM naming the key), and the directory rules refuse too. */
static void device_ids_setting(void **s)
{
	enum node_device_ids ids = NODE_DEVICE_IDS_POOLS;
	const char *why = NULL;
	static const struct {
		const char *json;
		int r;
		enum node_device_ids ids;
	} cases[] = {
		{ "{}", 0, NODE_DEVICE_IDS_ANY },
		{ "{\"sriovDeviceIDs\": \"any\"}", 0, NODE_DEVICE_IDS_ANY },
		{ "{\"sriovDeviceIDs\": \"pools\", \"logDirs\": []}", 0, NODE_DEVICE_IDS_POOLS },
		{ "{\"sriovDeviceIDs\": \"Pools\"}", -EPERM, 0 },
		{ "{\"sriovDeviceIDs\": true}", -EPERM, 0 },
		{ "{\"sriovDeviceIDs\": [\"pools\"]}", -EPERM, 0 },
	};
	if (geteuid() != 0)
		skip(); /* the node file must be root's */
	setenv(NODE_SETTINGS_ENV, "/nonexistent/node.json", 1);
	node_reset();
	assert_int_equal(node_device_ids(&ids, &why), 0);
	assert_int_equal(ids, NODE_DEVICE_IDS_ANY); /* no settings file: the default */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		node_settings("%s", cases[i].json);
		ids = 7;
		assert_int_equal(node_device_ids(&ids, &why), cases[i].r);
		if (cases[i].r == 0)
			assert_int_equal(ids, cases[i].ids);
		else {
			assert_int_equal(ids, 7); /* untouched */
			assert_non_null(strstr(why, "\"sriovDeviceIDs\" that is neither \"any\" nor \"pools\""));
			int fd = -1;
			assert_int_equal(node_open(NODE_LOG_DIRS, "/var/log/ucni/x.log", O_RDONLY, 0, &fd, &why), -EPERM);
		}
	}
	unsetenv(NODE_SETTINGS_ENV);
	node_reset();
}

/* devinfoDirs: the directory of a device-info file, opened beneath it without links. */
static void devinfo_dirs(void **s)
{
	char path[600], dir[400], name[256];
	const char *why = NULL;
	int fd = -1;
	if (geteuid() != 0)
		skip(); /* the node file must be root's */
	node_settings("{\"devinfoDirs\": [\"%s/di\"]}", test_dir);

	snprintf(path, sizeof(path), "%s/di/cni/a-device.json", test_dir);
	assert_int_equal(node_path_check(NODE_DEVINFO_DIRS, path, &why), 0);
	assert_int_equal(node_open_parent(NODE_DEVINFO_DIRS, path, 0, &fd, name, &why), -ENOENT); /* nothing made */
	snprintf(dir, sizeof(dir), "%s/di", test_dir);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(node_open_parent(NODE_DEVINFO_DIRS, path, 1, &fd, name, &why), 0);
	assert_string_equal(name, "a-device.json");
	close(fd);
	snprintf(dir, sizeof(dir), "%s/di/cni", test_dir);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* outside, "..", relative: refused lexically, naming the allowed directories */
	snprintf(path, sizeof(path), "%s/elsewhere/a.json", test_dir);
	assert_int_equal(node_path_check(NODE_DEVINFO_DIRS, path, &why), -EPERM);
	assert_non_null(strstr(why, "outside the device-info directories the node allows"));
	snprintf(path, sizeof(path), "%s/di/../a.json", test_dir);
	assert_int_equal(node_path_check(NODE_DEVINFO_DIRS, path, &why), -EPERM);
	assert_int_equal(node_path_check(NODE_DEVINFO_DIRS, "di/a.json", &why), -EPERM);
	snprintf(path, sizeof(path), "%s/di", test_dir);
	assert_int_equal(node_path_check(NODE_DEVINFO_DIRS, path, &why), -EPERM);
	/* beneath a symbolic link: refused, nothing made through it */
	snprintf(dir, sizeof(dir), "%s/target", test_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/di/link", test_dir);
	assert_int_equal(symlink(dir, path), 0);
	snprintf(path, sizeof(path), "%s/di/link/sub/a.json", test_dir);
	assert_int_equal(node_open_parent(NODE_DEVINFO_DIRS, path, 1, &fd, name, &why), -EPERM);
	assert_non_null(strstr(why, "symbolic link"));
	snprintf(path, sizeof(path), "%s/target/sub", test_dir);
	assert_int_equal(access(path, F_OK), -1);
	/* the default, without a node file */
	unsetenv(NODE_SETTINGS_ENV);
	node_reset();
	assert_int_equal(node_path_check(NODE_DEVINFO_DIRS, "/var/run/k8s.cni.cncf.io/devinfo/cni/x.json", &why), 0);
	node_reset();
}

/* devinfo_remove: the file ADD made, under devinfoDirs as they are now, no link followed. */
static void devinfo_remove_rules(void **s)
{
	char path[600], dir[400], name[256], target[400];
	const char *why = "x";
	struct stat st;
	int fd = -1;
	if (geteuid() != 0)
		skip(); /* the node file must be root's */
	node_settings("{\"devinfoDirs\": [\"%s/di\"]}", test_dir);

	snprintf(path, sizeof(path), "%s/di/cni/a-device.json", test_dir);
	/* nothing there, not even the directory: nothing to do, nothing made */
	assert_int_equal(devinfo_remove(path, &why), 0);
	assert_null(why);
	snprintf(dir, sizeof(dir), "%s/di", test_dir);
	assert_int_equal(access(dir, F_OK), -1);
	/* the file ADD writes: removed once, then already gone */
	assert_int_equal(node_open_parent(NODE_DEVINFO_DIRS, path, 1, &fd, name, &why), 0);
	assert_int_equal(devinfo_write_pci(fd, name, "0000:3b:01.1", "0000:3b:00.0", "", true), 0);
	assert_int_equal(devinfo_remove(path, &why), 1);
	assert_int_equal(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(devinfo_remove(path, &why), 0);
	/* a symbolic link in its place: left, and what it names untouched */
	snprintf(target, sizeof(target), "%s/target", test_dir);
	FILE *f = fopen(target, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlinkat(target, fd, name), 0);
	assert_int_equal(devinfo_remove(path, &why), -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(unlinkat(fd, name, 0), 0);
	/* a directory in its place: left */
	assert_int_equal(mkdirat(fd, name, 0755), 0);
	assert_int_equal(devinfo_remove(path, &why), -EISDIR);
	assert_non_null(strstr(why, "not a regular file"));
	assert_int_equal(unlinkat(fd, name, AT_REMOVEDIR), 0);
	/* the node no longer allows the directory: the file is left, the reason names the allowed ones */
	assert_int_equal(devinfo_write_pci(fd, name, "0000:3b:01.1", NULL, NULL, false), 0);
	node_settings("{\"devinfoDirs\": [\"%s/other\"]}", test_dir);
	assert_int_equal(devinfo_remove(path, &why), -EPERM);
	assert_non_null(strstr(why, "/other"));
	assert_int_equal(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	/* unusable node settings: refused too, never removed */
	node_settings("{\"devinfoDirs\": 1}");
	assert_int_equal(devinfo_remove(path, &why), -EPERM);
	assert_int_equal(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(devinfo_remove("", &why), -EINVAL);
	close(fd);
	unsetenv(NODE_SETTINGS_ENV);
	node_reset();
}

/* node_open_dir: a dataDir beneath the allowed directory, made only there, never through a link. */
static void data_dir_rules(void **s)
{
	char path[700], out[600];
	const char *why = NULL;
	struct stat st;
	int fd = -1;
	if (geteuid() != 0)
		skip(); /* the node file must be root's */
	node_settings("{\"dataDirs\": [\"%s/data\"]}", test_dir);

	/* the allowed directory is made when missing, then what lies beneath it */
	snprintf(path, sizeof(path), "%s/data/a/b", test_dir);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, false, 0755, &fd, &why), -ENOENT);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, true, 0755, &fd, &why), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	snprintf(path, sizeof(path), "%s/data", test_dir);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, false, 0755, &fd, &why), 0);
	close(fd);

	/* outside, beside, "..": refused, nothing made */
	snprintf(out, sizeof(out), "%s/out", test_dir);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, out, true, 0755, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "is outside the data directories the node allows"));
	snprintf(path, sizeof(path), "%s/data-x", test_dir);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, true, 0755, &fd, &why), -EPERM);
	snprintf(path, sizeof(path), "%s/data/../out", test_dir);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, true, 0755, &fd, &why), -EPERM);
	assert_int_equal(access(out, F_OK), -1);

	/* a component too long, after a missing one: refused before that one is made */
	char longp[700];
	snprintf(longp, sizeof(longp), "%s/data/new/%0300d", test_dir, 0);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, longp, true, 0755, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "too long"));
	snprintf(path, sizeof(path), "%s/data/new", test_dir);
	assert_int_equal(access(path, F_OK), -1);

	/* a link beneath the allowed directory is not followed, whatever it points at */
	assert_int_equal(mkdir(out, 0755), 0);
	snprintf(path, sizeof(path), "%s/data/link", test_dir);
	assert_int_equal(symlink(out, path), 0);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, true, 0755, &fd, &why), -EPERM);
	assert_non_null(strstr(why, "symbolic link"));
	snprintf(path, sizeof(path), "%s/data/link/x", test_dir);
	assert_int_equal(node_open_dir(NODE_DATA_DIRS, path, true, 0755, &fd, &why), -EPERM);
	snprintf(path, sizeof(path), "%s/out/x", test_dir);
	assert_int_equal(access(path, F_OK), -1);

	/* the other kinds keep their defaults */
	assert_string_equal(node_dirs_str(NODE_LOG_DIRS), NODE_LOG_DIR_DEFAULT);
	unsetenv(NODE_SETTINGS_ENV);
	node_reset();
	assert_string_equal(node_dirs_str(NODE_DATA_DIRS), NODE_DATA_DIR_DEFAULT);
	node_reset();
}

static void prev_result(void **s)
{
	assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"cniVersion\":\"1.0.0\","
			       "\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
			       "\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":0}]}}"),
			 0);
	assert_non_null(conf.prev);
	assert_int_equal(conf.prev->n_ifaces, 1);
	assert_int_equal(conf.prev->n_ips, 1);
	assert_true(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"ips\":[{\"address\":\"x\"}]}}") < 0);
	assert_error(CNI_ERR_DECODE, "prevResult: ips[0]");
}

static const cJSON *obj(const char *json)
{
	static cJSON *o;
	cJSON_Delete(o);
	cni_error_reset();
	o = cJSON_Parse(json);
	return o;
}

static void accessors(void **s)
{
	long long v;
	bool b;
	int e;
	const char *str;
	unsigned char mac[6];
	static const char *const modes[] = {"bridge", "private", NULL};

	assert_int_equal(conf_int(obj("{}"), NULL, "mtu", 0, 65535, &v), 0);
	assert_int_equal(conf_int(obj("{\"mtu\":null}"), NULL, "mtu", 0, 65535, &v), 0);
	assert_int_equal(conf_int(obj("{\"mtu\":1400}"), NULL, "mtu", 0, 65535, &v), 1);
	assert_int_equal(v, 1400);
	assert_true(conf_int(obj("{\"mtu\":\"1400\"}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mtu\" must be an integer, got \"1400\"");
	assert_true(conf_int(obj("{\"mtu\":1.5}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mtu\" must be an integer, got 1.5");
	assert_true(conf_int(obj("{\"mtu\":-1}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mtu\" value -1 is out of range");
	assert_true(conf_int(obj("{\"mtu\":70000}"), NULL, "mtu", 0, 65535, &v) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "70000");

	assert_int_equal(conf_bool(obj("{\"x\":true}"), NULL, "x", &b), 1);
	assert_true(b);
	assert_true(conf_bool(obj("{\"x\":\"yes\"}"), NULL, "x", &b) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"x\" must be true or false, got \"yes\"");

	assert_int_equal(conf_enum(obj("{\"mode\":\"private\"}"), NULL, "mode", modes, &e), 1);
	assert_int_equal(e, 1);
	assert_true(conf_enum(obj("{\"mode\":\"loud\"}"), NULL, "mode", modes, &e) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"mode\" has unknown value \"loud\" (expected one of: bridge, private)");

	assert_int_equal(conf_string(obj("{\"s\":\"v\"}"), "ipam", "s", &str), 1);
	assert_true(conf_string(obj("{\"s\":{}}"), "ipam", "s", &str) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"ipam.s\" must be a string");

	assert_int_equal(conf_mac(obj("{\"mac\":\"02:AA:bb:00:00:01\"}"), NULL, "mac", mac), 1);
	assert_int_equal(mac[1], 0xaa);
	const char *bad[] = {"{\"mac\":\"02:aa:bb:00:00\"}", "{\"mac\":\"02:aa:bb:00:00:0g\"}",
			     "{\"mac\":\"02-aa-bb-00-00-01\"}", "{\"mac\":\"02:aa:bb:00:00:011\"}"};
	for (size_t i = 0; i < 4; i++) {
		assert_true(conf_mac(obj(bad[i]), NULL, "mac", mac) < 0);
		assert_error(CNI_ERR_INVALID_CONFIG, "is not a MAC address");
	}
	assert_true(conf_mac(obj("{\"mac\":\"01:00:5e:00:00:01\"}"), "runtimeConfig", "mac", mac) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "\"runtimeConfig.mac\" value \"01:00:5e:00:00:01\" is a multicast address");
	assert_true(conf_mac(obj("{\"mac\":\"00:00:00:00:00:00\"}"), NULL, "mac", mac) < 0);
	assert_error(CNI_ERR_INVALID_CONFIG, "all-zero");
	obj("{}");
}

static void mac_format(void **s)
{
	unsigned char m[6] = {0x02, 0xab, 0, 1, 0xff, 0x10};
	char buf[18];
	format_mac(m, buf);
	assert_string_equal(buf, "02:ab:00:01:ff:10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(minimal, reset_error),
		cmocka_unit_test_setup(every_version, reset_error),
		cmocka_unit_test_setup(decode_errors, reset_error),
		cmocka_unit_test_setup(version_errors, reset_error),
		cmocka_unit_test_setup(name_errors, reset_error),
		cmocka_unit_test_setup(ipam, reset_error),
		cmocka_unit_test_setup(objects, reset_error),
		cmocka_unit_test_setup(prev_result, reset_error),
		cmocka_unit_test_setup(nul_in_strings, reset_error),
		cmocka_unit_test_setup(nul_bytes, reset_error),
		cmocka_unit_test_setup(nul_scanner, reset_error),
		cmocka_unit_test_setup(log_escaping, reset_error),
		cmocka_unit_test_setup(path_normalize, reset_error),
		cmocka_unit_test_setup_teardown(log_file_rules, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(device_ids_setting, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(devinfo_dirs, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(devinfo_remove_rules, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(data_dir_rules, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup(accessors, reset_error),
		cmocka_unit_test_setup(mac_format, reset_error),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, teardown);
}

/* The crash-safe state files (lib/base/state.c): the store-directory rule, the one
 * atomic write (state_replace and its *at form), the temp files of writers that are gone;
 * the bound of read_all (lib/base/io.c), which state_read uses. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fixture.h"
#include "unit.h"

#include "ucni/io.h"
#include "ucni/state.h"

static int count_in(const char *sub)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "exit $(ls -A '%s/%s' | wc -l)", test_dir, sub);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode & 07777;
}

static void mkdir_rule(void **state)
{
	char p[512], f[512], l[512];
	(void)state;
	path_of(p, sizeof(p), "a/b/c");
	mode_t old = umask(0277); /* what we create is 0700 whatever the umask */
	assert_int_equal(state_mkdir(p, 0700), 0);
	umask(old);
	assert_int_equal(mode_of(p), 0700);
	assert_int_equal(state_mkdir(p, 0700), 0); /* idempotent */
	assert_int_equal(state_dir_check(p), 0);
	/* A directory others may write into is refused and left exactly as it is. */
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(state_mkdir(p, 0700), -EPERM);
	assert_int_equal(mode_of(p), 0777);
	assert_int_equal(state_dir_check(p), -EPERM);
	assert_int_equal(chmod(p, 0770), 0);
	assert_int_equal(state_mkdir(p, 0700), -EPERM);
	assert_int_equal(mode_of(p), 0770);
	/* Readable by others but not writable: usable, and not tightened either. */
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(state_mkdir(p, 0700), 0);
	assert_int_equal(mode_of(p), 0755);
	/* A symlink, even to a good directory, is refused; the link stays. */
	path_of(l, sizeof(l), "link");
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(state_mkdir(l, 0700), -EPERM);
	assert_int_equal(state_dir_check(l), -EPERM);
	assert_int_equal(mode_of(p), 0755);
	path_of(f, sizeof(f), "file");
	close(open(f, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(state_mkdir(f, 0700), -ENOTDIR);
	assert_int_equal(mode_of(f), 0600);
	path_of(f, sizeof(f), "absent");
	assert_int_equal(state_dir_check(f), -ENOENT);
	/* Another owner's directory: refused, owner and mode unchanged. */
	if (geteuid() == 0) {
		struct stat st;
		path_of(p, sizeof(p), "theirs");
		assert_int_equal(mkdir(p, 0700), 0);
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(state_mkdir(p, 0700), -EPERM);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_mode & 07777, 0700);
	}
}

/* read_all: at most MAX bytes (exactly MAX is fine), -EFBIG beyond, below 4096 too. */
static int read_all_of(size_t n, size_t max, size_t *ret_len)
{
	int p[2];
	char *buf = NULL, data[6000];
	assert_true(n <= sizeof(data));
	memset(data, 'x', n);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write_all(p[1], data, n), 0);
	close(p[1]);
	*ret_len = 0;
	int r = read_all(p[0], max, &buf, ret_len);
	close(p[0]);
	if (r == 0)
		assert_int_equal(buf[*ret_len], 0);
	free(buf);
	return r;
}

static void read_all_bound(void **state)
{
	size_t len;
	(void)state;
	assert_int_equal(read_all_of(5000, 5000, &len), 0);
	assert_int_equal(len, 5000);
	assert_int_equal(read_all_of(5001, 5000, &len), -EFBIG);
	assert_int_equal(read_all_of(4096, 4096, &len), 0);
	assert_int_equal(len, 4096);
	assert_int_equal(read_all_of(4097, 4096, &len), -EFBIG);
	assert_int_equal(read_all_of(100, 100, &len), 0);
	assert_int_equal(read_all_of(101, 100, &len), -EFBIG);
	assert_int_equal(read_all_of(0, 0, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(read_all_of(1, 0, &len), -EFBIG);
}

/* state_open_dir: made (or only judged without a mode), opened, never through a link. */
static void open_dir(void **state)
{
	char p[512], l[512];
	int fd = -1;
	struct stat st;
	(void)state;
	path_of(p, sizeof(p), "od/a");
	assert_int_equal(state_open_dir(p, 0, &fd), -ENOENT);
	assert_int_equal(fd, -1);
	assert_int_equal(state_open_dir(p, 0700, &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	assert_int_equal(mode_of(p), 0700);
	assert_int_equal(state_open_dir(p, 0, &fd), 0);
	close(fd);
	path_of(l, sizeof(l), "od/link");
	assert_int_equal(symlink(p, l), 0);
	fd = -1;
	assert_int_equal(state_open_dir(l, 0, &fd), -EPERM);
	assert_int_equal(state_open_dir(l, 0700, &fd), -EPERM);
	assert_int_equal(fd, -1);
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(state_open_dir(p, 0, &fd), -EPERM);
	assert_int_equal(fd, -1);
}

/* state_open_subdir: beneath an open directory, never through a link, made when asked. */
static void open_subdir(void **state)
{
	char p[512], l[512], t[512];
	int dfd, fd;
	struct stat st;
	(void)state;
	path_of(p, sizeof(p), "");
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(state_open_subdir(dfd, "x/y", 0, &fd), -ENOENT); /* not made without a mode */
	mode_t old = umask(0077);
	assert_int_equal(state_open_subdir(dfd, "x//y/./z", 0755, &fd), 0);
	umask(old);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	path_of(p, sizeof(p), "x/y/z");
	assert_int_equal(mode_of(p), 0755); /* the mode asked, whatever the umask */
	assert_int_equal(state_open_subdir(dfd, "", 0, &fd), 0); /* dirfd itself */
	close(fd);
	/* a symbolic link anywhere below is refused, and nothing is made through it */
	path_of(t, sizeof(t), "target");
	assert_int_equal(mkdir(t, 0755), 0);
	path_of(l, sizeof(l), "x/link");
	assert_int_equal(symlink(t, l), 0);
	assert_int_equal(state_open_subdir(dfd, "x/link/sub", 0755, &fd), -ELOOP);
	assert_int_equal(count_in("target"), 0);
	/* a file is not a directory; one others may write into is refused as it is */
	path_of(p, sizeof(p), "x/file");
	close(open(p, O_CREAT | O_WRONLY, 0644));
	assert_int_equal(state_open_subdir(dfd, "x/file", 0755, &fd), -ENOTDIR);
	path_of(p, sizeof(p), "x/y");
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(state_open_subdir(dfd, "x/y/z", 0755, &fd), -EPERM);
	assert_int_equal(mode_of(p), 0777);
	close(dfd);
}

/* state_walk without STATE_WALK_JUDGE (the node's admin directories): the same walk, no
 * owner rule; still never through a link or a file, still the exact mode when it makes. */
static void walk_unjudged(void **state)
{
	char p[512], l[512], t[512];
	int dfd, fd;
	(void)state;
	path_of(p, sizeof(p), "");
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	mode_t old = umask(0077);
	assert_int_equal(state_walk(dfd, "a/b", 0755, 0, &fd), 0);
	umask(old);
	close(fd);
	path_of(p, sizeof(p), "a/b");
	assert_int_equal(mode_of(p), 0755);
	/* a directory others may write into: refused only by the judged walk */
	path_of(p, sizeof(p), "a");
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(state_walk(dfd, "a/b", 0, STATE_WALK_JUDGE, &fd), -EPERM);
	assert_int_equal(state_walk(dfd, "a/b", 0, 0, &fd), 0);
	close(fd);
	/* a group-writable mode asked for is not given */
	assert_int_equal(state_walk(dfd, "a/c", 0775, 0, &fd), 0);
	close(fd);
	path_of(p, sizeof(p), "a/c");
	assert_int_equal(mode_of(p), 0755);
	/* links and files refused as by the judged walk, nothing made through them */
	path_of(t, sizeof(t), "target");
	assert_int_equal(mkdir(t, 0755), 0);
	path_of(l, sizeof(l), "a/link");
	assert_int_equal(symlink(t, l), 0);
	assert_int_equal(state_walk(dfd, "a/link/sub", 0755, 0, &fd), -ELOOP);
	assert_int_equal(count_in("target"), 0);
	path_of(p, sizeof(p), "a/file");
	close(open(p, O_CREAT | O_WRONLY, 0644));
	assert_int_equal(state_walk(dfd, "a/file/sub", 0755, 0, &fd), -ENOTDIR);
	assert_int_equal(state_walk(dfd, "a/missing/sub", 0, 0, &fd), -ENOENT);
	close(dfd);
}

static void replace_and_read(void **state)
{
	char p[512], *s;
	(void)state;
	path_of(p, sizeof(p), "data.json");
	assert_int_equal(state_read(p, 100, &s, &(size_t){0}), -ENOENT);
	mode_t old = umask(0);
	assert_int_equal(state_replace(p, "first", 5, 0600), 0);
	umask(old);
	assert_int_equal(state_replace(p, "second", 6, 0640), 0);
	s = slurp(p);
	assert_non_null(s);
	assert_string_equal(s, "second");
	free(s);
	assert_int_equal(mode_of(p), 0640);
	/* the temp area is a private directory, and empty afterwards */
	char t[512];
	path_of(t, sizeof(t), ".tmp");
	assert_int_equal(mode_of(t), 0700);
	assert_int_equal(count_in(".tmp"), 0);
	assert_int_equal(count_in(""), 2);
	/* not a regular file: refused without blocking */
	path_of(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(state_read(p, 100, &s, &(size_t){0}), -EINVAL);
}

/* A temp area that is not a private directory is refused and left alone. */
static void replace_refuses_foreign_tmp_area(void **state)
{
	char p[512], t[512], other[512];
	(void)state;
	path_of(p, sizeof(p), "data.json");
	path_of(t, sizeof(t), ".tmp");
	path_of(other, sizeof(other), "elsewhere");
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(symlink(other, t), 0);
	assert_int_equal(state_replace(p, "x", 1, 0600), -EPERM);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(count_in("elsewhere"), 0);
	assert_int_equal(unlink(t), 0);
	assert_int_equal(mkdir(t, 0777), 0);
	assert_int_equal(chmod(t, 0777), 0);
	assert_int_equal(state_replace(p, "x", 1, 0600), -EPERM);
	assert_int_equal(mode_of(t), 0777);
	assert_int_equal(access(p, F_OK), -1);
}

static char *filled(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Content is one of the writes, whole: never a mix, never empty, also when
 * the writer is killed in the middle of one. */
static void replace_is_atomic(void **state)
{
	enum { NA = 300000, NB = 200000 };
	char p[512];
	char *a = filled('a', NA), *b = filled('b', NB);
	(void)state;
	path_of(p, sizeof(p), "big.json");
	assert_int_equal(state_replace(p, a, NA, 0600), 0);
	for (int round = 0; round < 3; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (int i = 0;; i++)
				if (state_replace(p, i % 2 ? a : b, i % 2 ? NA : NB, 0600) < 0)
					_exit(1);
		}
		for (int i = 0; i < 200; i++) {
			char *s = slurp(p);
			assert_non_null(s);
			size_t n = strlen(s);
			if (!((n == NA && s[0] == 'a' && s[n - 1] == 'a' && strspn(s, "a") == n) ||
			      (n == NB && s[0] == 'b' && s[n - 1] == 'b' && strspn(s, "b") == n)))
				fail_msg("read %zu bytes starting with '%c': a mix", n, s[0]);
			free(s);
		}
		usleep((useconds_t)(1000 * (round * 7 + 3)));
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		char *s = slurp(p);
		assert_non_null(s);
		assert_true(strlen(s) == NA || strlen(s) == NB);
		free(s);
	}
	/* Whatever the killed writer left, the next write removes it. */
	assert_int_equal(state_replace(p, "done", 4, 0600), 0);
	assert_int_equal(count_in(".tmp"), 0);
	free(a);
	free(b);
}

/* A file in the temp area: "held" by a live child (which flocks it), or left. */
static pid_t tmp_file(const char *name, bool held)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/.tmp/%s", test_dir, name);
	int fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0600);
	assert_true(fd >= 0);
	if (!held) {
		close(fd);
		return 0;
	}
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		if (flock(fd, LOCK_EX) < 0)
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fd);
	close(pfd[1]);
	char c;
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void replace_sweeps_gone_writers(void **state)
{
	char p[512], t[512];
	(void)state;
	path_of(p, sizeof(p), "reg.json");
	assert_int_equal(state_replace(p, "1", 1, 0600), 0);
	path_of(t, sizeof(t), ".tmp/reg.json.424242.0");
	tmp_file("reg.json.424242.0", false);         /* a killed writer's */
	tmp_file("other.json.424243.7", false);       /* of another target: swept too */
	pid_t live = tmp_file("reg.json.1.0", true);   /* a writer still at work */
	assert_int_equal(count_in(".tmp"), 3);
	assert_int_equal(state_replace(p, "2", 1, 0600), 0);
	assert_int_equal(access(t, F_OK), -1);
	assert_int_equal(count_in(".tmp"), 1); /* the live one is kept */
	stop(live);
	assert_int_equal(state_replace(p, "3", 1, 0600), 0);
	assert_int_equal(count_in(".tmp"), 0);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void sweep_for_gc(void **state)
{
	char p[512], name[128], keep[512], legacy_dead[512], legacy_live[512], legacy_old[512];
	(void)state;
	path_of(p, sizeof(p), "reg.json");
	assert_int_equal(state_replace(p, "1", 1, 0600), 0);
	tmp_file("reg.json.99.1", false);
	pid_t live = tmp_file("reg.json.98.1", true);
	/* the older form, <name>.tmp.<pid>, next to the files */
	snprintf(name, sizeof(name), "reg.json.tmp.%d", (int)dead_pid());
	path_of(legacy_dead, sizeof(legacy_dead), name);
	close(open(legacy_dead, O_CREAT | O_WRONLY, 0600));
	snprintf(name, sizeof(name), "reg.json.tmp.%d", (int)getpid());
	path_of(legacy_live, sizeof(legacy_live), name);
	close(open(legacy_live, O_CREAT | O_WRONLY, 0600));
	snprintf(name, sizeof(name), "old.json.tmp.%d", (int)getpid());
	path_of(legacy_old, sizeof(legacy_old), name);
	close(open(legacy_old, O_CREAT | O_WRONLY, 0600));
	struct timespec ts[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	assert_int_equal(utimensat(AT_FDCWD, legacy_old, ts, 0), 0);
	path_of(keep, sizeof(keep), "notes.tmp.txt");
	close(open(keep, O_CREAT | O_WRONLY, 0600));

	assert_int_equal(state_sweep(test_dir), 3);
	assert_int_equal(access(legacy_dead, F_OK), -1);
	assert_int_equal(access(legacy_old, F_OK), -1);
	assert_int_equal(access(legacy_live, F_OK), 0);
	assert_int_equal(access(keep, F_OK), 0);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(count_in(".tmp"), 1);
	stop(live);
	assert_int_equal(state_sweep(test_dir), 1);
	assert_int_equal(count_in(".tmp"), 0);
	/* A directory that is not a state directory is not touched. */
	assert_int_equal(chmod(test_dir, 0777), 0);
	assert_int_equal(state_sweep(test_dir), -EPERM);
	assert_int_equal(access(legacy_live, F_OK), 0);
	assert_int_equal(chmod(test_dir, 0700), 0);
}

/* The last writer of a directory may remove its empty temp area; a write that
 * meets it gone makes it anew, and one in progress keeps it. */
static void tidy(void **state)
{
	char p[512], t[512];
	(void)state;
	path_of(p, sizeof(p), "reg.json");
	path_of(t, sizeof(t), ".tmp");
	assert_int_equal(state_tidy(test_dir), 0); /* no area: nothing to do */
	assert_int_equal(state_replace(p, "1", 1, 0600), 0);
	pid_t live = tmp_file("reg.json.5.5", true);
	assert_int_equal(state_tidy(test_dir), 0);
	assert_int_equal(access(t, F_OK), 0); /* a writer at work keeps it */
	stop(live);
	assert_int_equal(state_replace(p, "2", 1, 0600), 0); /* sweeps the file */
	assert_int_equal(state_tidy(test_dir), 0);
	assert_int_equal(access(t, F_OK), -1);
	assert_int_equal(count_in(""), 1);
	/* Writes racing a tidier all succeed. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		for (;;) {
			state_tidy(test_dir);
			usleep(100);
		}
	int failed = 0, r = 0;
	for (int i = 0; i < 2000; i++)
		if ((r = state_replace(p, "3", 1, 0600)) != 0) {
			failed = i + 1;
			break;
		}
	stop(pid);
	if (failed)
		fail_msg("write %d failed while the temp area came and went: %s", failed, strerror(-r));
	char *s = slurp(p);
	assert_non_null(s);
	assert_string_equal(s, "3");
	free(s);
}

/* The *at form with a temp name of its own (devmgr's store): written, a crashed writer's
 * leftover replaced rather than adopted, the mode set, nothing left on a failure. */
static void write_at_fixed_tmp(void **state)
{
	char p[512], tmp[512], other[512];
	struct stat st;
	(void)state;
	int dfd = open(test_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(state_write_at(dfd, ".tmp.rec", dfd, "rec.json", "one\n", 4, 0600, 0), 0);
	path_of(p, sizeof(p), "rec.json");
	char *s = slurp(p);
	assert_string_equal(s, "one\n");
	free(s);
	assert_int_equal(mode_of(p), 0600);

	/* A leftover temp file that is a hard link to a file elsewhere: replaced, never
	 * written through (the file elsewhere keeps its content). */
	path_of(other, sizeof(other), "elsewhere");
	path_of(tmp, sizeof(tmp), ".tmp.rec");
	FILE *f = fopen(other, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	assert_int_equal(link(other, tmp), 0);
	assert_int_equal(state_write_at(dfd, ".tmp.rec", dfd, "rec.json", "two", 3, 0640, 0), 0);
	s = slurp(p);
	assert_string_equal(s, "two");
	free(s);
	assert_int_equal(mode_of(p), 0640);
	s = slurp(other);
	assert_string_equal(s, "keep");
	free(s);
	assert_int_equal(lstat(tmp, &st), -1);
	assert_int_equal(stat(other, &st), 0);
	assert_int_equal((int)st.st_nlink, 1);

	/* A rename that cannot be done (a directory with content at the name): the
	 * error, the old state, no temp file. */
	char d2[512], inner[520];
	path_of(d2, sizeof(d2), "busy");
	assert_int_equal(mkdir(d2, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/x", d2);
	assert_int_equal(mkdir(inner, 0700), 0);
	int r = state_write_at(dfd, ".tmp.busy", dfd, "busy", "x", 1, 0600, 0);
	assert_true(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST);
	path_of(tmp, sizeof(tmp), ".tmp.busy");
	assert_int_equal(lstat(tmp, &st), -1);
	assert_int_equal(errno, ENOENT);
	close(dfd);
}

/* The temp file in another directory (state_replace's temp area) and an empty write. */
static void write_at_other_dir(void **state)
{
	char area[512], p[512];
	(void)state;
	path_of(area, sizeof(area), "area");
	assert_int_equal(mkdir(area, 0700), 0);
	int dfd = open(test_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), tfd = open(area, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0 && tfd >= 0);
	assert_int_equal(state_write_at(tfd, "f", dfd, "f", "", 0, 0600, STATE_TMP_UNIQUE), 0);
	path_of(p, sizeof(p), "f");
	char *s = slurp(p);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(count_in("area"), 0);
	close(tfd);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(mkdir_rule, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(open_subdir, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(walk_unjudged, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(open_dir, test_dir_make, test_dir_remove),
		cmocka_unit_test(read_all_bound),
		cmocka_unit_test_setup_teardown(replace_and_read, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(replace_refuses_foreign_tmp_area, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(replace_is_atomic, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(replace_sweeps_gone_writers, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(sweep_for_gc, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(tidy, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(write_at_fixed_tmp, test_dir_make, test_dir_remove),
		cmocka_unit_test_setup_teardown(write_at_other_dir, test_dir_make, test_dir_remove),
	};
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}

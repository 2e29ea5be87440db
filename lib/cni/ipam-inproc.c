/* In-process IPAM: when the IPAM binary found in CNI_PATH is ucni's own of this very
 * build, run its code here instead of exec'ing it (see ipam_inproc_match).
 *
 * The identity is the binary's note (ucni/elfnote.h): its kind names the builtin to
 * run and its build id must equal this binary's, so the code run here is the code
 * the exec would have run. The file must also be one the exec path would run as it
 * is, and one nobody but root (or us) could have put there: a regular file owned by
 * root or by our user, not writable by group or others, not setuid/setgid, without
 * file capabilities (the exec would change privileges), on a filesystem that allows
 * exec (the exec would fail: so does the run, by exec'ing). Anything else is exec'd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ucni/elfnote.h"
#include "ucni/fault.h"
#include "ucni/ipam.h"

/* Open `path` for reading only when it is a regular file: first without access (O_PATH),
 * then the very inode it named, through /proc/self/fd. -EBADFD: not a regular file. */
static int open_regular(const char *path, int *ret_fd, struct stat *ret_st)
{
	char self[64];
	struct stat st, again;
	int pfd, fd, r = 0;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EBADFD;
	if (r < 0) {
		close(pfd);
		return r;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	r = fd < 0 ? -errno : 0;
	close(pfd);
	if (r < 0)
		return r;
	if (fstat(fd, &again) < 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
		close(fd);
		return -EBADFD;
	}
	*ret_fd = fd;
	*ret_st = again;
	return 0;
}

int ipam_inproc_match(const char *path, const struct ipam_builtin **ret, const char **ret_why)
{
	char desc[UCNI_NOTE_IPAM_LEN], kind[UCNI_NOTE_KIND_LEN + 1];
	const struct ipam_builtin *b = NULL;
	const char *why = NULL;
	struct stat st = {0};
	struct statvfs vfs;
	size_t n;
	int fd = -1, r;

	if (!ucni_ipam_builtins) {
		*ret_why = "this program has no IPAM built in";
		return 0;
	}
	/* the file the exec would run: the path, links followed; looked at before it is
	 * opened for reading, as opening a device or a FIFO has effects of its own */
	if ((r = open_regular(path, &fd, &st)) < 0) {
		*ret_why = r == -EBADFD ? "it is not a regular file" : "it cannot be opened";
		return 0;
	}
	if (FAULT("ipam.inproc.match") < 0)
		why = "fault injected";
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		why = "it is owned by another user than root or us";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "it is writable by group or others";
	else if (st.st_mode & (S_ISUID | S_ISGID))
		why = "it is setuid or setgid";
	else if (fgetxattr(fd, "security.capability", NULL, 0) >= 0 || (errno != ENODATA && errno != ENOTSUP))
		why = "it has file capabilities (or they cannot be read)";
	else if (fstatvfs(fd, &vfs) < 0 || (vfs.f_flag & ST_NOEXEC))
		why = "its filesystem does not allow exec";
	else if ((r = elf_note_find(fd, UCNI_NOTE_NAME, UCNI_NOTE_IPAM, desc, sizeof(desc), &n)) < 0 ||
		 n != UCNI_NOTE_IPAM_LEN)
		why = "it carries no ucni IPAM note";
	else if (memcmp(desc + UCNI_NOTE_KIND_LEN, ucni_build_id, UCNI_BUILD_ID_LEN) != 0)
		why = "it is of another build";
	close(fd);
	if (!why) {
		memcpy(kind, desc, UCNI_NOTE_KIND_LEN);
		kind[UCNI_NOTE_KIND_LEN] = '\0';
		for (const struct ipam_builtin *e = ucni_ipam_builtins; e->kind && !b; e++)
			if (strcmp(e->kind, kind) == 0)
				b = e;
		if (!b)
			why = "its kind is not built in";
	}
	if (why) {
		*ret_why = why;
		return 0;
	}
	*ret = b;
	return 1;
}

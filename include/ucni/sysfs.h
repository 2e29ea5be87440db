/* Reading and writing sysfs (and procfs) attributes relative to a directory descriptor:
 * small files, the numbers they hold, and where their links point. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the small file DIRFD/PATH into BUF of SIZE bytes (NUL-terminated,
 * trailing newlines and spaces stripped). Returns the length or -errno. */
ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size);
/* TEXT written to the attribute DIRFD/PATH in one write (truncated first, its last
 * component never a symbolic link): 0, or -errno (-EIO on a short write). */
int write_small_at(int dirfd, const char *path, const char *text);
/* ... a decimal int in it (-EINVAL when it holds something else). */
int read_int_at(int dirfd, const char *path, int *ret);
/* ... a hex number that fits 32 bits ("0x" optional), as a netdev's flags: -EINVAL when
 * it holds something else. */
int read_hex_at(int dirfd, const char *path, uint32_t *ret);
/* The last path component of the symlink DIRFD/PATH. */
int readlink_base_at(int dirfd, const char *path, char *buf, size_t size);
/* ... of a link target already read: -ENAMETOOLONG when it does not fit SIZE. */
int link_target_base(const char *target, char *buf, size_t size);
/* An attribute's number: a whole decimal int, or hex ("0x" optional) that
 * fits 32 bits. -EINVAL otherwise. */
int parse_int(const char *s, int *ret);
int parse_hex_u32(const char *s, uint32_t *ret);

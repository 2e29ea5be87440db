/* Reading one note out of an ELF file, and the note ucni's binaries carry (their build stamp). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The note of ucni's IPAM binaries: name "ucni", type UCNI_NOTE_IPAM, descriptor the
 * IPAM's kind (NUL-padded to UCNI_NOTE_KIND_LEN bytes) followed by the build id
 * (UCNI_BUILD_ID_LEN hex digits). */
#define UCNI_NOTE_NAME "ucni"
#define UCNI_NOTE_IPAM 1
#define UCNI_NOTE_KIND_LEN 16
#define UCNI_BUILD_ID_LEN 64
#define UCNI_NOTE_IPAM_LEN (UCNI_NOTE_KIND_LEN + UCNI_BUILD_ID_LEN)
/* The note of every program that links lib/base/buildid.c (the plugins): type
 * UCNI_NOTE_BUILD, descriptor the build id alone. */
#define UCNI_NOTE_BUILD 2

/* The build id of this binary: a digest of the sources and the compiler flags. */
extern const char ucni_build_id[UCNI_BUILD_ID_LEN + 1];

/*
 * Find the note `name`/`type` in the ELF file open at fd and copy its descriptor into
 * buf (size bytes). Reads only the ELF header, the program headers and the PT_NOTE
 * segments, with pread and bounded sizes: files of another class, byte order or
 * machine than this program's, malformed ones and ones shorter than their segments
 * are refused, never trusted.
 * 0 (*ret_len: the descriptor's length); -ENOEXEC (not an ELF file this program could
 * run, malformed, or cut short); -ENOENT (no such note); -EFBIG (descriptor longer than size);
 * -errno from pread/fstat. *ret_len and buf are untouched on failure.
 */
int elf_note_find(int fd, const char *name, uint32_t type, void *buf, size_t size, size_t *ret_len);

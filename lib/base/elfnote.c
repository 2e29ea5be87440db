/* A small ELF reader: one note, found through the program headers, read with pread. */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ucni/elfnote.h"

/* Bounds on what is read: real binaries have a dozen program headers and notes of a
 * few hundred bytes. */
#define ELF_MAX_PHDRS 256
#define ELF_MAX_NOTE_SEGMENT (64 * 1024)

#if __SIZEOF_POINTER__ == 8
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Phdr phdr_t;
#define ELF_CLASS ELFCLASS64
#else
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Phdr phdr_t;
#define ELF_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELF_DATA ELFDATA2LSB
#else
#define ELF_DATA ELFDATA2MSB
#endif
#if defined(__x86_64__)
#define ELF_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define ELF_MACHINE EM_AARCH64
#elif defined(__i386__)
#define ELF_MACHINE EM_386
#elif defined(__arm__)
#define ELF_MACHINE EM_ARM
#elif defined(__riscv)
#define ELF_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define ELF_MACHINE EM_PPC64
#elif defined(__s390x__)
#define ELF_MACHINE EM_S390
#endif

/* Exactly len bytes at off, or -ENOEXEC when the file is shorter. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOEXEC;
		got += (size_t)n;
	}
	return 0;
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Walk the notes of one segment (seg, len bytes). Each note starts at a multiple of
 * `align`; its name follows its 12-byte header, its descriptor starts at the next
 * multiple of `align` after the name (gABI; as readelf reads 8-aligned segments). */
static int walk_notes(const unsigned char *seg, size_t len, size_t align, const char *name, uint32_t type,
		      void *buf, size_t size, size_t *ret_len)
{
	size_t namesz_want = strlen(name) + 1, off = 0;
	while (off < len && len - off >= sizeof(Elf32_Nhdr)) {
		Elf32_Nhdr nh; /* the same layout in both classes */
		memcpy(&nh, seg + off, sizeof(nh));
		size_t name_at = off + sizeof(nh);
		/* every size compared against what is left, so that no sum can wrap */
		if (nh.n_namesz > len - name_at)
			return -ENOEXEC;
		size_t desc_at = align_up(name_at + nh.n_namesz, align);
		if (desc_at > len || nh.n_descsz > len - desc_at)
			return -ENOEXEC;
		if (nh.n_type == type && nh.n_namesz == namesz_want && memcmp(seg + name_at, name, namesz_want) == 0) {
			if (nh.n_descsz > size)
				return -EFBIG;
			memcpy(buf, seg + desc_at, nh.n_descsz);
			*ret_len = nh.n_descsz;
			return 0;
		}
		off = align_up(desc_at + nh.n_descsz, align);
	}
	return -ENOENT;
}

int elf_note_find(int fd, const char *name, uint32_t type, void *buf, size_t size, size_t *ret_len)
{
	ehdr_t eh;
	phdr_t *ph = NULL;
	unsigned char *seg = NULL;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	if ((r = read_at(fd, &eh, sizeof(eh), 0)) < 0)
		return r;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELF_CLASS ||
	    eh.e_ident[EI_DATA] != ELF_DATA || eh.e_ident[EI_VERSION] != EV_CURRENT ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(phdr_t) ||
	    eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHDRS)
		return -ENOEXEC;
#ifdef ELF_MACHINE
	if (eh.e_machine != ELF_MACHINE)
		return -ENOEXEC;
#endif
	uint64_t fsize = (uint64_t)st.st_size, phsize = (uint64_t)eh.e_phnum * sizeof(phdr_t);
	if (eh.e_phoff > fsize || phsize > fsize - eh.e_phoff)
		return -ENOEXEC;
	if (!(ph = malloc(phsize)))
		return -ENOMEM;
	if ((r = read_at(fd, ph, phsize, eh.e_phoff)) < 0)
		goto out;
	/* A file cut short (a copy that failed half-way) would not run: every segment
	 * must lie within it. */
	for (size_t i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_offset > fsize || ph[i].p_filesz > fsize - ph[i].p_offset) {
			r = -ENOEXEC;
			goto out;
		}
	r = -ENOENT;
	for (size_t i = 0; i < eh.e_phnum && r == -ENOENT; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		if (ph[i].p_filesz > ELF_MAX_NOTE_SEGMENT) {
			r = -ENOEXEC;
			break;
		}
		size_t len = ph[i].p_filesz;
		unsigned char *s = realloc(seg, len ? len : 1);
		if (!s) {
			r = -ENOMEM;
			break;
		}
		seg = s;
		if ((r = read_at(fd, seg, len, ph[i].p_offset)) < 0)
			break;
		/* Notes in a segment aligned to 8 (.note.gnu.property) are padded to 8. */
		r = walk_notes(seg, len, ph[i].p_align == 8 ? 8 : 4, name, type, buf, size, ret_len);
	}
out:
	free(seg);
	free(ph);
	return r;
}

/* The ELF note reader (lib/base/elfnote.c) on made-up files: well-formed, cut at every
 * length, with hostile sizes and offsets, and with random bytes. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "unit.h"
#include "ucni/elfnote.h"

#define PH_AT sizeof(Elf64_Ehdr)
#define NOTES_AT (PH_AT + 2 * sizeof(Elf64_Phdr))

struct img {
	unsigned char b[4096];
	size_t len;
};

static void put_note(struct img *m, size_t align, const char *name, uint32_t type, const void *desc, uint32_t dlen)
{
	Elf64_Nhdr nh = {.n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = dlen, .n_type = type};
	memcpy(m->b + m->len, &nh, sizeof(nh));
	m->len += sizeof(nh);
	memcpy(m->b + m->len, name, nh.n_namesz);
	m->len = (m->len + nh.n_namesz + align - 1) & ~(align - 1);
	memcpy(m->b + m->len, desc, dlen);
	m->len = (m->len + dlen + align - 1) & ~(align - 1);
}

/* An ELF file of this machine: a PT_LOAD over the whole file and one PT_NOTE (align)
 * holding a GNU note, then ucni's IPAM note. */
static void make(struct img *m, size_t align)
{
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph[2] = {{0}};
	char desc[UCNI_NOTE_IPAM_LEN] = "static";
	memset(m, 0, sizeof(*m));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = PH_AT;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	memset(desc + UCNI_NOTE_KIND_LEN, 'a', UCNI_BUILD_ID_LEN);
	m->len = NOTES_AT;
	put_note(m, align, "GNU", 5, "0123456789abcdef", 16);
	put_note(m, align, UCNI_NOTE_NAME, UCNI_NOTE_IPAM, desc, sizeof(desc));
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD, .p_offset = 0, .p_filesz = m->len, .p_align = 4096};
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = NOTES_AT, .p_filesz = m->len - NOTES_AT, .p_align = align};
	memcpy(m->b, &eh, sizeof(eh));
	memcpy(m->b + PH_AT, ph, sizeof(ph));
}

static Elf64_Phdr *note_ph(struct img *m)
{
	return (Elf64_Phdr *)(m->b + PH_AT + sizeof(Elf64_Phdr));
}

/* elf_note_find on the image's first len bytes, through a memfd. */
static int find_len(const struct img *m, size_t len, char *buf, size_t size, size_t *ret_len)
{
	int fd = memfd_create("elfnote", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, m->b, len), (ssize_t)len);
	int r = elf_note_find(fd, UCNI_NOTE_NAME, UCNI_NOTE_IPAM, buf, size, ret_len);
	close(fd);
	return r;
}

static int find(const struct img *m)
{
	char buf[UCNI_NOTE_IPAM_LEN];
	size_t n = 0;
	return find_len(m, m->len, buf, sizeof(buf), &n);
}

static void finds_the_note(void **state)
{
	for (size_t align = 4; align <= 8; align += 4) {
		struct img m;
		char buf[128];
		size_t n = 0;
		make(&m, align);
		assert_int_equal(find_len(&m, m.len, buf, sizeof(buf), &n), 0);
		assert_int_equal(n, UCNI_NOTE_IPAM_LEN);
		assert_string_equal(buf, "static");
		assert_int_equal(buf[UCNI_NOTE_KIND_LEN], 'a');
	}
}

static void absent_note_and_other_type(void **state)
{
	struct img m;
	make(&m, 4);
	Elf64_Nhdr *ours = (Elf64_Nhdr *)(m.b + NOTES_AT + sizeof(Elf64_Nhdr) + 4 + 16);
	ours->n_type = 2;
	assert_int_equal(find(&m), -ENOENT);
	make(&m, 4);
	note_ph(&m)->p_type = PT_LOAD; /* no PT_NOTE at all */
	assert_int_equal(find(&m), -ENOENT);
}

/* Cut at every length: refused (a segment beyond the end), never read past it. */
static void cut_at_every_length(void **state)
{
	struct img m;
	make(&m, 4);
	for (size_t len = 0; len < m.len; len++) {
		char buf[UCNI_NOTE_IPAM_LEN];
		memset(buf, 'x', sizeof(buf));
		size_t n = 7;
		assert_int_equal(find_len(&m, len, buf, sizeof(buf), &n), -ENOEXEC);
		assert_int_equal(n, 7); /* untouched */
		assert_int_equal(buf[0], 'x');
	}
}

static void header_refusals(void **state)
{
	struct img m;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)m.b;
	make(&m, 4);
	eh->e_ident[EI_MAG1] = 'X';
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_type = ET_REL;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_phentsize = 32;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_phnum = 0;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_phnum = 0xffff;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	eh->e_phoff = UINT64_MAX - 8;
	assert_int_equal(find(&m), -ENOEXEC);
#if defined(__x86_64__)
	make(&m, 4);
	eh->e_machine = EM_AARCH64;
	assert_int_equal(find(&m), -ENOEXEC);
#endif
}

static void hostile_segments(void **state)
{
	struct img m;
	make(&m, 4);
	note_ph(&m)->p_offset = UINT64_MAX - 4; /* offset + size wraps */
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	note_ph(&m)->p_filesz = 1ull << 40;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	note_ph(&m)->p_filesz = UINT64_MAX;
	assert_int_equal(find(&m), -ENOEXEC);
	/* a note segment above the bound (64 KiB), the file as long as it says */
	static struct img big;
	make(&big, 4);
	int fd = memfd_create("big", MFD_CLOEXEC);
	assert_true(fd >= 0);
	note_ph(&big)->p_filesz = 128 * 1024;
	((Elf64_Phdr *)(big.b + PH_AT))->p_filesz = NOTES_AT + 128 * 1024;
	assert_int_equal(write(fd, big.b, big.len), (ssize_t)big.len);
	assert_int_equal(ftruncate(fd, NOTES_AT + 128 * 1024), 0);
	char buf[UCNI_NOTE_IPAM_LEN];
	size_t n;
	assert_int_equal(elf_note_find(fd, UCNI_NOTE_NAME, UCNI_NOTE_IPAM, buf, sizeof(buf), &n), -ENOEXEC);
	close(fd);
}

static void hostile_notes(void **state)
{
	struct img m;
	Elf64_Nhdr *first = (Elf64_Nhdr *)(m.b + NOTES_AT);
	make(&m, 4);
	first->n_namesz = UINT32_MAX;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	first->n_descsz = UINT32_MAX;
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 4);
	first->n_descsz = UINT32_MAX - 3; /* aligned up, it would wrap */
	assert_int_equal(find(&m), -ENOEXEC);
	make(&m, 8);
	first->n_namesz = 1000;
	assert_int_equal(find(&m), -ENOEXEC);
}

static void descriptor_too_long_for_buffer(void **state)
{
	struct img m;
	char buf[16];
	size_t n = 3;
	make(&m, 4);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(find_len(&m, m.len, buf, sizeof(buf), &n), -EFBIG);
	assert_int_equal(n, 3);
	assert_int_equal(buf[0], 'x');
}

static void not_a_regular_file(void **state)
{
	int p[2];
	char buf[UCNI_NOTE_IPAM_LEN];
	size_t n;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(elf_note_find(p[0], UCNI_NOTE_NAME, UCNI_NOTE_IPAM, buf, sizeof(buf), &n), -ENOEXEC);
	close(p[0]);
	close(p[1]);
	assert_int_equal(elf_note_find(-1, UCNI_NOTE_NAME, UCNI_NOTE_IPAM, buf, sizeof(buf), &n), -EBADF);
}

/* Random bytes over the headers and notes: any answer, but no crash and no read
 * outside the buffers (valgrind and ASan watch). */
static void random_corruption(void **state)
{
	srand(17);
	for (int i = 0; i < 3000; i++) {
		struct img m;
		make(&m, (i & 1) ? 8 : 4);
		for (int k = 0; k < 1 + i % 6; k++)
			m.b[(size_t)rand() % m.len] = (unsigned char)rand();
		int r = find(&m);
		assert_true(r == 0 || r == -ENOENT || r == -ENOEXEC || r == -EFBIG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_the_note),
		cmocka_unit_test(absent_note_and_other_type),
		cmocka_unit_test(cut_at_every_length),
		cmocka_unit_test(header_refusals),
		cmocka_unit_test(hostile_segments),
		cmocka_unit_test(hostile_notes),
		cmocka_unit_test(descriptor_too_long_for_buffer),
		cmocka_unit_test(not_a_regular_file),
		cmocka_unit_test(random_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

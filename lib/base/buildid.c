/* This build's id (see ucni/elfnote.h); the Makefile derives it from the sources. */
#include "ucni/buildid.h"
#include "ucni/elfnote.h"

_Static_assert(sizeof(UCNI_BUILD_ID) == UCNI_BUILD_ID_LEN + 1, "build id length");
_Static_assert(UCNI_NOTE_BUILD == 2, "the note below");

const char ucni_build_id[UCNI_BUILD_ID_LEN + 1] = UCNI_BUILD_ID;

/* Every program that links this file (the plugins) shows its build: readelf -n. */
__asm__(".pushsection .note.ucni.build,\"a\",%note\n"
	".balign 4\n"
	".long 5\n"  /* namesz: "ucni" and its NUL */
	".long 64\n" /* descsz: UCNI_BUILD_ID_LEN */
	".long 2\n"  /* type: UCNI_NOTE_BUILD */
	".asciz \"ucni\"\n"
	".balign 4\n"
	".ascii \"" UCNI_BUILD_ID "\"\n"
	".balign 4\n"
	".popsection\n");

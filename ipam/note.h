/* The note an IPAM program carries (ucni/elfnote.h): its kind and this build's id, in a
 * PT_NOTE segment, so that a plugin of the same build can tell it runs the same code. */
#pragma once

#include "ucni/buildid.h"
#include "ucni/elfnote.h"

/* kind: a string literal of at most 15 bytes. */
#define UCNI_IPAM_NOTE(kind)                                                                        \
	_Static_assert(sizeof(kind) <= UCNI_NOTE_KIND_LEN, "IPAM kind too long");                   \
	_Static_assert(sizeof(UCNI_BUILD_ID) == UCNI_BUILD_ID_LEN + 1, "build id length");          \
	_Static_assert(UCNI_NOTE_IPAM_LEN == 80 && UCNI_NOTE_IPAM == 1, "the note below");          \
	__asm__(".pushsection .note.ucni.ipam,\"a\",%note\n"                                         \
		".balign 4\n"                                                                       \
		".long 5\n"          /* namesz: "ucni" and its NUL */                               \
		".long 80\n"         /* descsz: UCNI_NOTE_IPAM_LEN */                               \
		".long 1\n"          /* type: UCNI_NOTE_IPAM */                                     \
		".asciz \"ucni\"\n"                                                                 \
		".balign 4\n"                                                                       \
		"9: .asciz \"" kind "\"\n"                                                           \
		".org 9b + 16\n"                                                                    \
		".ascii \"" UCNI_BUILD_ID "\"\n"                                                     \
		".balign 4\n"                                                                       \
		".popsection\n")

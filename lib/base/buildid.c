/* This build's id (see ucni/elfnote.h); the Makefile derives it from the sources. */
#include "ucni/buildid.h"
#include "ucni/elfnote.h"

const char ucni_build_id[UCNI_BUILD_ID_LEN + 1] = UCNI_BUILD_ID;

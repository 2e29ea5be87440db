/* The host-local IPAM program: its note and its main (the plugin is hostlocal.c). */
#include "common.h"
#include "note.h"

UCNI_IPAM_NOTE("host-local");

int main(void)
{
	return ipam_main(&ipam_hostlocal);
}

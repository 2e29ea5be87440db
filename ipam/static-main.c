/* The static IPAM program: its note and its main (the plugin is static.c). */
#include "common.h"
#include "note.h"

UCNI_IPAM_NOTE("static");

int main(void)
{
	return ipam_main(&ipam_static);
}

/* The tables a person reads (list, pools): cells cut to their column with an ellipsis so
 * that a row fits 100 columns, full cells with -o wide, colours only on a terminal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */

static int use_color = -1;

bool table_color(void)
{
	if (use_color < 0) {
		/* no-color.org: NO_COLOR set and not empty turns colours off */
		const char *nc = getenv("NO_COLOR");
		use_color = isatty(STDOUT_FILENO) && !(nc && *nc);
	}
	return use_color;
}

/* Display columns of the UTF-8 text S: one per character (pci.ids names are Latin). */
static size_t text_cols(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The byte length of the first COLS characters of S. */
static size_t cols_bytes(const char *s, size_t cols)
{
	size_t i = 0;
	while (s[i] && cols) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cols--;
	}
	return i;
}

void table_cell(const char *s, int width, const char *color, bool last)
{
	size_t cols = text_cols(s), w = (size_t)(width < 0 ? -width : width), len = strlen(s);
	bool cut = !opt.wide && cols > w && w > 0;
	if (cut) {
		len = cols_bytes(s, w - 1);
		cols = w;
	}
	bool paint = color && table_color();
	if (width < 0)
		for (; cols < w; cols++)
			putchar(' ');
	if (paint)
		printf("\033[%sm", color);
	fwrite(s, 1, len, stdout);
	if (cut)
		fputs(ELLIPSIS, stdout);
	if (paint)
		fputs("\033[0m", stdout);
	if (last) {
		putchar('\n');
		return;
	}
	for (; cols < w; cols++)
		putchar(' ');
	putchar(' ');
}

void table_header(const char *const *names, const int *widths, size_t n)
{
	if (opt.no_headers)
		return;
	for (size_t i = 0; i < n; i++)
		table_cell(names[i], widths[i], TABLE_BOLD, i + 1 == n);
}

void table_summary(const vf_counts *c, const char *fmt, ...)
{
	va_list ap;
	if (opt.no_headers)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %d free, %d used, %d unhealthy", c->free, c->used, c->unhealthy);
	if (c->stale)
		printf(", %d stale", c->stale);
	if (c->corrupt)
		printf(", %d corrupt", c->corrupt);
	putchar('\n');
}

const char *state_color(const char *state)
{
	if (!strncmp(state, "free", 4))
		return TABLE_GREEN;
	if (!strncmp(state, "used", 4))
		return TABLE_YELLOW;
	return TABLE_RED;
}

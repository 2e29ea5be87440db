/* The NUL check of JSON text, shared by the CNI core and devmgr (header only).
 *
 * cJSON decodes the escape \u0000 into a NUL byte, copies a raw NUL byte inside a string
 * as it is, and keeps its strings NUL-terminated, so "static\u0000x" reads as "static":
 * whatever is checked sees one string, whatever the JSON meant is another. Every JSON
 * text ucni reads is scanned for both and refused. The scan follows the text's structure far enough to name where the escape
 * is: its byte offset and the key path ("ipam.type", "prevResult.ips[0].address"). */
#ifndef UCNI_JSONCHECK_H
#define UCNI_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSON_NUL_DEPTH 32 /* levels named in a path; deeper ones are shown as "..." */

struct json_nul {
	size_t offset;  /* of the backslash of \u0000, or of the NUL byte */
	bool raw;       /* a NUL byte, not the escape */
	bool in_key;    /* it is in a key of the object PATH names */
	char path[160]; /* "" for the top level */
};

struct json_nul_frame_ {
	bool object;
	bool want_key;            /* an object's next string is a key */
	size_t key, key_len;      /* the current key's bytes in the text */
	size_t index;             /* an array's current element */
};

static inline void json_nul_path_(const char *text, const struct json_nul_frame_ *f, size_t depth,
				  struct json_nul *ret)
{
	size_t n = 0, size = sizeof(ret->path);
	ret->path[0] = 0;
	for (size_t d = 0; d < depth && n + 1 < size; d++) {
		int k;
		if (d >= JSON_NUL_DEPTH) {
			k = snprintf(ret->path + n, size - n, "...");
			n += k > 0 ? (size_t)k : 0;
			break;
		}
		if (!f[d].object) {
			k = snprintf(ret->path + n, size - n, "[%zu]", f[d].index);
		} else if (f[d].want_key) {
			break; /* between a ',' and the next key: the object itself */
		} else {
			if (n && n + 1 < size)
				ret->path[n++] = '.';
			/* the key as written, with anything unprintable shown as '?' */
			for (size_t i = 0; i < f[d].key_len && n + 1 < size; i++) {
				unsigned char c = (unsigned char)text[f[d].key + i];
				ret->path[n++] = c < 0x20 || c == 0x7f || c == '"' ? '?' : (char)c;
			}
			ret->path[n] = 0;
			continue;
		}
		n += k > 0 ? (size_t)k : 0;
	}
	if (n >= size)
		n = size - 1;
	ret->path[n] = 0;
}

/* Scans the LEN bytes of TEXT. Returns true, with RET (may be NULL) filled, when a string
 * or key holds the escape \u0000, or the text a NUL byte anywhere; false otherwise. A backslash always takes the next
 * character with it, so "\\u0000" (a backslash, then text) is not a hit. Text that is
 * not JSON may give either answer: the parser refuses it anyway. */
static inline bool json_find_nul(const char *text, size_t len, struct json_nul *ret)
{
	struct json_nul_frame_ f[JSON_NUL_DEPTH];
	size_t depth = 0;
	bool in_str = false, is_key = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		struct json_nul_frame_ *top = depth && depth <= JSON_NUL_DEPTH ? &f[depth - 1] : NULL;
		bool raw = c == 0;
		if (raw || (in_str && c == '\\' && i + 5 < len && text[i + 1] == 'u' && text[i + 2] == '0' &&
			    text[i + 3] == '0' && text[i + 4] == '0' && text[i + 5] == '0')) {
			if (ret) {
				if (in_str && is_key && top)
					top->want_key = true; /* name the object, not the half-read key */
				json_nul_path_(text, f, depth, ret);
				ret->offset = i;
				ret->raw = raw;
				ret->in_key = in_str && is_key;
			}
			return true;
		}
		if (in_str) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_str = false;
				if (is_key && top)
					top->key_len = i - top->key;
			}
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			is_key = top && top->object && top->want_key;
			if (is_key) {
				top->want_key = false;
				top->key = i + 1;
				top->key_len = 0;
			}
			break;
		case '{':
		case '[':
			if (depth < JSON_NUL_DEPTH)
				f[depth] = (struct json_nul_frame_){.object = c == '{', .want_key = c == '{'};
			depth++;
			break;
		case '}':
		case ']':
			if (depth)
				depth--;
			break;
		case ',':
			if (top && top->object)
				top->want_key = true;
			else if (top)
				top->index++;
			break;
		default:
			break;
		}
	}
	return false;
}

#endif

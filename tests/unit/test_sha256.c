/* SHA-256 against the FIPS 180-4 examples and lengths around the padding edges. */
#include <stdlib.h>
#include "unit.h"
#include "ucni/sha256.h"

static void hex_of(const char *s, size_t len, const char *want)
{
	char got[SHA256_HEX_LEN + 1];
	sha256_hex(s, len, got);
	assert_string_equal(got, want);
}

static void known_vectors(void **state)
{
	hex_of("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void a_million_a_in_pieces(void **state)
{
	unsigned char d[SHA256_LEN];
	static const unsigned char want[SHA256_LEN] = {
		0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
		0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
	char chunk[997];
	struct sha256 s;
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	for (size_t left = 1000000; left > 0;) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
		sha256_update(&s, chunk, k);
		left -= k;
	}
	sha256_final(&s, d);
	assert_memory_equal(d, want, SHA256_LEN);
}

/* Lengths where the padding takes one block or two (from sha256sum). */
static void padding_edges(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
		{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
		{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
	};
	char buf[65];
	memset(buf, 'a', sizeof(buf));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		hex_of(buf, v[i].n, v[i].hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_vectors),
		cmocka_unit_test(a_million_a_in_pieces),
		cmocka_unit_test(padding_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

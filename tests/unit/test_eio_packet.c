/* SPDX-License-Identifier: MIT */
/*
 * test_eio_packet: the Engine.IO v4 codec: every packet type, payloads
 * joined by 0x1e with text and b<base64> records, base64 both ways
 * (padding, every length mod 3), and malformed input (empty records, bad
 * type digits, bad base64, a binary record too big for its buffer) as a
 * clear -1, never a crash.
 */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "trun.h"
#include "binary.h"
#include "eio_packet.h"

START_TEST(every_packet_type_decodes)
{
	static const char *const pk[] = { "0{}", "1", "2", "3probe", "4hello",
					  "5", "6" };
	struct eio_pkt p;

	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(eio_decode(pk[i], strlen(pk[i]), &p), 0);
		ck_assert_int_eq(p.type, i);
		ck_assert_int_eq(p.binary, 0);
		ck_assert_uint_eq(p.len, strlen(pk[i]) - 1);
	}
	ck_assert_int_eq(eio_decode("4hello", 6, &p), 0);
	ck_assert_int_eq(memcmp(p.data, "hello", 5), 0);
}
END_TEST

START_TEST(bad_packets_are_refused)
{
	struct eio_pkt p;

	ck_assert_int_eq(eio_decode("", 0, &p), -1);
	ck_assert_int_eq(eio_decode("7", 1, &p), -1);
	ck_assert_int_eq(eio_decode("abc", 3, &p), -1);
	ck_assert_int_eq(eio_decode("/4", 2, &p), -1);
	ck_assert_int_eq(eio_decode("\xff", 1, &p), -1);
}
END_TEST

START_TEST(payload_splits_text_and_binary_records)
{
	const char *s = "4hello\x1e" "bAQIDBA==\x1e" "2\x1e" "4";
	const char *p = s, *end = s + strlen(s);
	unsigned char bin[64];
	struct eio_pkt k;

	ck_assert_int_eq(eio_payload_next(&p, end, &k, bin, sizeof(bin)), 1);
	ck_assert_int_eq(k.type, EIO_MESSAGE);
	ck_assert_uint_eq(k.len, 5);
	ck_assert_int_eq(eio_payload_next(&p, end, &k, bin, sizeof(bin)), 1);
	ck_assert_int_eq(k.binary, 1);
	ck_assert_uint_eq(k.len, 4);
	ck_assert_int_eq(memcmp(k.data, "\1\2\3\4", 4), 0);
	ck_assert_int_eq(eio_payload_next(&p, end, &k, bin, sizeof(bin)), 1);
	ck_assert_int_eq(k.type, EIO_PING);
	ck_assert_int_eq(eio_payload_next(&p, end, &k, bin, sizeof(bin)), 1);
	ck_assert_int_eq(k.type, EIO_MESSAGE);
	ck_assert_uint_eq(k.len, 0);
	ck_assert_int_eq(eio_payload_next(&p, end, &k, bin, sizeof(bin)), 0);
}
END_TEST

START_TEST(bad_payload_records_are_refused)
{
	static const char *const bad[] = { "\x1e" "4a", "4a\x1e\x1e" "4b",
					   "x", "b!!!!", "bA", "9" };
	unsigned char bin[64];
	struct eio_pkt k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = bad[i], *end = p + strlen(p);
		int rc;

		while ((rc = eio_payload_next(&p, end, &k, bin,
					      sizeof(bin))) == 1)
			;
		ck_assert_msg(rc == -1, "accepted \"%s\"", bad[i]);
	}
	/* a binary record bigger than the buffer */
	{
		const char *s = "bAAAAAAAAAAAAAAAA", *p = s;

		ck_assert_int_eq(eio_payload_next(&p, s + strlen(s), &k, bin,
						  4), -1);
	}
}
END_TEST

START_TEST(base64_round_trips_every_length)
{
	unsigned char in[64], out[80];
	char b[100];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t len = binary_b64_encode(in, n, b);

		ck_assert_uint_eq(len, binary_b64_len(n));
		ck_assert_int_eq(eio_b64_decode(b, len, out), (long)n);
		ck_assert_int_eq(memcmp(in, out, n), 0);
	}
	ck_assert_uint_eq(binary_b64_encode((const unsigned char *)"\1\2\3\4",
					    4, b), 8);
	ck_assert_int_eq(memcmp(b, "AQIDBA==", 8), 0);
	ck_assert_int_eq(eio_b64_decode("AQIDBA", 6, out), 4);	/* unpadded */
	ck_assert_int_eq(eio_b64_decode("A", 1, out), -1);
	ck_assert_int_eq(eio_b64_decode("AQ=D", 4, out), -1);
	ck_assert_int_eq(eio_b64_decode("AQ-_", 4, out), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("eio_packet");
	TCase *tc = tcase_create("packets");

	tcase_add_test(tc, every_packet_type_decodes);
	tcase_add_test(tc, bad_packets_are_refused);
	tcase_add_test(tc, payload_splits_text_and_binary_records);
	tcase_add_test(tc, bad_payload_records_are_refused);
	tcase_add_test(tc, base64_round_trips_every_length);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}

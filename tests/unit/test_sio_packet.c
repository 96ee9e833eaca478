/* SPDX-License-Identifier: MIT */
/*
 * test_sio_packet: the Socket.IO v5 codec: every packet type with and
 * without namespace, ack id and payload, binary packets' attachment
 * counts, the Swift client's "40/," form, the payload shape per type, the
 * array stepping the handlers use, the head encoder, and malformed input
 * (the protocol suite's "4abc", "42{}", "42abc[...]" among them) refused
 * with bad_packet, never a crash.
 */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "trun.h"
#include "sio_packet.h"

static struct sio_pkt
ok(const char *s)
{
	struct sio_pkt p;
	struct im_error e = { 0 };

	ck_assert_msg(sio_decode(s, strlen(s), &p, &e) == 0, "refused %s: %s",
		      s, e.message);
	return p;
}

static void
refused(const char *s)
{
	struct sio_pkt p;
	struct im_error e = { 0 };

	ck_assert_msg(sio_decode(s, strlen(s), &p, &e) == -1, "accepted %s",
		      s);
	ck_assert_str_eq(e.code, "bad_packet");
}

START_TEST(connect_forms)
{
	struct sio_pkt p = ok("0");

	ck_assert_int_eq(p.type, SIO_CONNECT);
	ck_assert_uint_eq(p.nsp_len, 1);
	ck_assert_ptr_null(p.data);
	p = ok("0{\"token\":\"123\"}");
	ck_assert_uint_eq(p.len, 15);
	p = ok("0/custom,");
	ck_assert_uint_eq(p.nsp_len, 7);
	ck_assert_int_eq(memcmp(p.nsp, "/custom", 7), 0);
	ck_assert_ptr_null(p.data);
	p = ok("0/custom");
	ck_assert_uint_eq(p.nsp_len, 7);
	p = ok("0/,");			/* the Swift client's form */
	ck_assert_uint_eq(p.nsp_len, 1);
	ck_assert_int_eq(p.nsp[0], '/');
	p = ok("0/custom,{\"a\":1}");
	ck_assert_ptr_nonnull(p.data);
	refused("0[]");
	refused("0\"x\"");
}
END_TEST

START_TEST(events_acks_and_binary)
{
	struct sio_pkt p = ok("2[\"message\",1,\"2\",{\"3\":[true]}]");

	ck_assert_int_eq(p.type, SIO_EVENT);
	ck_assert_int_eq(p.ack, -1);
	p = ok("2456[\"message-with-ack\",1]");
	ck_assert_int_eq(p.ack, 456);
	p = ok("2/chat,7[\"x\"]");
	ck_assert_int_eq(p.ack, 7);
	ck_assert_uint_eq(p.nsp_len, 5);
	p = ok("3456[1,\"2\"]");
	ck_assert_int_eq(p.type, SIO_ACK);
	p = ok("3456[]");
	ck_assert_ptr_nonnull(p.data);
	p = ok("52-[\"m\",{\"_placeholder\":true,\"num\":0},"
	       "{\"_placeholder\":true,\"num\":1}]");
	ck_assert_int_eq(p.type, SIO_BINARY_EVENT);
	ck_assert_uint_eq(p.attachments, 2);
	p = ok("62-789[{\"_placeholder\":true,\"num\":0}]");
	ck_assert_int_eq(p.type, SIO_BINARY_ACK);
	ck_assert_int_eq(p.ack, 789);
	p = ok("1");
	ck_assert_int_eq(p.type, SIO_DISCONNECT);
	p = ok("1/custom,");
	ck_assert_uint_eq(p.nsp_len, 7);
	p = ok("4{\"message\":\"no\"}");
	ck_assert_int_eq(p.type, SIO_CONNECT_ERROR);
}
END_TEST

START_TEST(malformed_is_refused)
{
	static const char *const bad[] = {
		"", "7", "abc", "2{}", "2[]", "2[1]", "2\"x\"",
		"2abc[\"message-with-ack\",1]", "2[\"x\"", "2[\"x\"] junk",
		"1{}", "3{}", "4[]", "5[\"x\"]", "5-[\"x\"]", "50-[\"x\"]",
		"517-[\"x\"]", "5x-[\"x\"]", "2[\"x\",NaN]", "3", "2",
		"21234567890123[\"x\"]", "2[\"\xff\"]",
	};

	char nsp[SIO_NSP_MAX + 8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	/* a namespace over SIO_NSP_MAX */
	nsp[0] = '0';
	nsp[1] = '/';
	memset(nsp + 2, 'a', SIO_NSP_MAX);
	memcpy(nsp + 2 + SIO_NSP_MAX, ",", 2);
	refused(nsp);
}
END_TEST

START_TEST(array_elements_as_written)
{
	const char *s = "[\"message\", 1 ,\"a,]\\\"b\",{\"3\":[true,{}]},[]]";
	size_t pos = 0, st, n;
	const char *want[] = { "\"message\"", "1", "\"a,]\\\"b\"",
			       "{\"3\":[true,{}]}", "[]" };
	int i = 0;

	while (sio_array_next(s, strlen(s), &pos, &st, &n)) {
		ck_assert_int_lt(i, 5);
		ck_assert_uint_eq(n, strlen(want[i]));
		ck_assert_int_eq(memcmp(s + st, want[i], n), 0);
		i++;
	}
	ck_assert_int_eq(i, 5);
	pos = 0;
	ck_assert_int_eq(sio_array_next("[]", 2, &pos, &st, &n), 0);
	pos = 0;
	ck_assert_int_eq(sio_array_next("{}", 2, &pos, &st, &n), 0);
}
END_TEST

START_TEST(heads_encode)
{
	char b[128];
	size_t n;

	n = sio_encode_head(b, sizeof(b), SIO_EVENT, "/", 1, 0, -1);
	ck_assert_int_eq(memcmp(b, "2", n), 0);
	n = sio_encode_head(b, sizeof(b), SIO_ACK, NULL, 0, 0, 456);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(memcmp(b, "3456", 4), 0);
	n = sio_encode_head(b, sizeof(b), SIO_BINARY_ACK, "/custom", 7, 2,
			    789);
	ck_assert_uint_eq(n, 14);
	ck_assert_int_eq(memcmp(b, "62-/custom,789", 14), 0);
	n = sio_encode_head(b, sizeof(b), SIO_CONNECT_ERROR, "/random", 7, 0,
			    -1);
	ck_assert_int_eq(memcmp(b, "4/random,", n), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sio_packet");
	TCase *tc = tcase_create("packets");

	tcase_add_test(tc, connect_forms);
	tcase_add_test(tc, events_acks_and_binary);
	tcase_add_test(tc, malformed_is_refused);
	tcase_add_test(tc, array_elements_as_written);
	tcase_add_test(tc, heads_encode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}

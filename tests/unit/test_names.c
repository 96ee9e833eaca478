/* SPDX-License-Identifier: MIT */
/*
 * test_names: the input rules with no network. Each kind's alphabet and
 * bounds, a name judged with its length (an embedded NUL is refused), the
 * words of to and via in enum order, the one code and message per kind;
 * the UTF-8 decoder (overlong forms, surrogates, beyond U+10FFFF,
 * truncation); the bounded JSON builder (escapes, never past its end).
 */
#include "autoconf.h"

#include <check.h>
#include <string.h>

#include "trun.h"
#include "jbuf.h"
#include "msg.h"
#include "names.h"
#include "utf8.h"

static int
ok(enum name_kind k, const char *s)
{
	return names_valid(k, s, strlen(s));
}

START_TEST(each_kind_has_its_alphabet_and_bounds)
{
	ck_assert(ok(NAME_ROOM, "a.B_c-9"));
	ck_assert(!ok(NAME_ROOM, "a:b"));
	ck_assert(!ok(NAME_ROOM, ""));
	ck_assert(ok(NAME_EVENT, "typing:start"));
	ck_assert(!ok(NAME_EVENT, "123456789012345678901234567890123"));
	ck_assert(ok(NAME_CID, "abcd-_09"));
	ck_assert(!ok(NAME_CID, "abc-_09"));		/* 7 */
	ck_assert(!ok(NAME_CID, "abcd.efgh"));
	ck_assert(ok(NAME_FROM, "Zo\xc3\xab \xf0\x9f\x98\x80"));
	ck_assert(!ok(NAME_FROM, "bell\x07"));
	ck_assert(!ok(NAME_FROM, "c1\xc2\x85"));	/* NEL, a C1 control */
	ck_assert(ok(NAME_FROM, "12345678901234567890123456789\xc3\xa9\xc3"
		     "\xa9\xc3\xa9"));			/* 32 characters */
	ck_assert(!ok(NAME_FROM, "123456789012345678901234567890123"));
	ck_assert(!names_valid(NAME_ROOM, NULL, 0));
}
END_TEST

START_TEST(an_embedded_nul_is_refused_not_cut_short)
{
	ck_assert(!names_valid(NAME_ROOM, "lobby\0x", 7));
	ck_assert(names_valid(NAME_ROOM, "lobby\0x", 5));
	ck_assert(!names_valid(NAME_EVENT, "chat\0", 5));
	ck_assert(!names_valid(NAME_CID, "abcdefgh\0x", 10));
	ck_assert(!names_valid(NAME_FROM, "a\0b", 3));
	ck_assert_int_eq(names_word(NAME_TO, "self\0", 5), -1);
	ck_assert_int_eq(names_word(NAME_VIA, "ws\0", 3), -1);
}
END_TEST

START_TEST(words_come_back_in_enum_order)
{
	ck_assert_int_eq(names_word(NAME_TO, "room", 4), MSG_TO_ROOM);
	ck_assert_int_eq(names_word(NAME_TO, "others", 6), MSG_TO_OTHERS);
	ck_assert_int_eq(names_word(NAME_TO, "self", 4), MSG_TO_SELF);
	ck_assert_int_eq(names_word(NAME_VIA, "longpoll", 8), VIA_LONGPOLL);
	ck_assert_int_eq(names_word(NAME_VIA, "api", 3), VIA_API);
	ck_assert_int_eq(names_word(NAME_VIA, "poll", 3), -1);
	ck_assert_int_eq(names_word(NAME_ROOM, "room", 4), -1);
}
END_TEST

START_TEST(one_code_and_message_per_kind)
{
	static const char *const codes[NAME__COUNT] = {
		"bad_room", "bad_event", "bad_cid", "bad_from",
		"bad_target", "bad_via", "bad_mid",
	};
	struct im_error e;

	for (int k = 0; k < NAME__COUNT; k++) {
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(names_check((enum name_kind)k, "", 0, &e),
				 IM_EINVAL);
		ck_assert_str_eq(e.code, codes[k]);
		ck_assert_uint_gt(strlen(e.message), 10);
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(names_check((enum name_kind)k, NULL, 0, &e),
				 IM_EINVAL);
		ck_assert_str_eq(e.code, codes[k]);
		ck_assert_ptr_nonnull(strstr(e.message, "required"));
	}
	ck_assert_int_eq(names_check(NAME_ROOM, "lobby", 5, &e), IM_OK);
	ck_assert_str_eq(names_key(NAME_TO), "to");
	ck_assert_int_eq(names_check(NAME_EVENT, "?", 1, NULL), IM_EINVAL);
}
END_TEST

START_TEST(utf8_decoder_takes_only_shortest_scalar_forms)
{
	uint32_t cp = 0;

	ck_assert_uint_eq(utf8_decode((const unsigned char *)"\xc3\xa9", 2,
				      &cp), 2);
	ck_assert_uint_eq(cp, 0xe9);
	ck_assert_uint_eq(utf8_decode((const unsigned char *)
				      "\xf4\x8f\xbf\xbf", 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x10ffff);
	ck_assert(!utf8_valid("\xc0\xaf", 2));		/* overlong / */
	ck_assert(!utf8_valid("\xe0\x80\xaf", 3));	/* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));	/* a surrogate */
	ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!utf8_valid("\xe2\x82", 2));		/* truncated */
	ck_assert(!utf8_valid("\xe2\x28\xa1", 3));	/* bad continuation */
	ck_assert(utf8_valid("plain \xe2\x82\xac", 9));
	ck_assert(utf8_valid("", 0));
}
END_TEST

START_TEST(jbuf_escapes_and_never_writes_past_its_end)
{
	char mem[32];
	struct jbuf b;

	jbuf_init(&b, mem, sizeof(mem));
	jbuf_str(&b, "a\"b\\c\x01");
	ck_assert_int_eq(b.over, 0);
	ck_assert_uint_eq(b.len, jbuf_str_len("a\"b\\c\x01"));
	ck_assert_int_eq(memcmp(mem, "\"a\\\"b\\\\c\\u0001\"", b.len), 0);
	jbuf_printf(&b, "%d", 12345);
	ck_assert_uint_eq(b.len, 20);
	jbuf_puts(&b, "0123456789a");		/* 31: one byte stays free */
	ck_assert_int_eq(b.over, 0);
	ck_assert_uint_eq(b.len, 31);
	jbuf_raw(&b, "x", 1);
	ck_assert_int_eq(b.over, 1);
	ck_assert_uint_eq(b.len, 31);
	jbuf_printf(&b, "%s", "");		/* over stays over */
	ck_assert_uint_eq(b.len, 31);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, each_kind_has_its_alphabet_and_bounds);
	tcase_add_test(tc, an_embedded_nul_is_refused_not_cut_short);
	tcase_add_test(tc, words_come_back_in_enum_order);
	tcase_add_test(tc, one_code_and_message_per_kind);
	tcase_add_test(tc, utf8_decoder_takes_only_shortest_scalar_forms);
	tcase_add_test(tc, jbuf_escapes_and_never_writes_past_its_end);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}

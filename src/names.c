/* SPDX-License-Identifier: MIT */
/*
 * names: one row per kind of name - its alphabet and length bounds, or a
 * list of words - and the code and messages its errors carry.
 */
#include "autoconf.h"

#include <string.h>

#include "msg.h"
#include "names.h"
#include "utf8.h"

/* in enum msg_target order; "pid:<hex>" (MSG_TO_PID) is matched apart */
static const char *const targets[] = { "room", "others", "self", NULL };

#define PID_PREFIX "pid:"
#define PID_PREFIX_LEN 4

/* Event names Socket.IO keeps for itself: a message called so would make
 * every JS client in the room drop its connection, on any transport. */
static const char *const reserved[] = {
	"connect", "disconnect", "connect_error", "disconnecting",
	"newListener", "removeListener", NULL
};

static const struct name_rule {
	const char *key;
	const char *code;
	const char *rule;	/* the message when it breaks the rule */
	const char *missing;	/* the message when it is absent */
	size_t min, max;	/* bytes, or (from) UTF-8 characters */
	const char *extra;	/* allowed besides A-Z a-z 0-9; NULL: UTF-8 */
	const char *const *words;	/* or one of these (via: via_name) */
	const char *const *taken;	/* never one of these, */
	const char *taken_code;		/* refused with this code */
} rules[NAME__COUNT] = {
	[NAME_ROOM] = { "room", "bad_room",
		"room names are 1-64 characters of A-Z a-z 0-9 _ . -",
		"\"room\" is required (a string)", 1, MSG_ROOM_MAX, "_.-",
		NULL, NULL, NULL },
	[NAME_EVENT] = { "event", "bad_event",
		"event names are 1-32 characters of A-Z a-z 0-9 _ . : -",
		"\"event\" is required", 1, MSG_EVENT_MAX, "_.:-", NULL,
		reserved, "reserved_event" },
	[NAME_CID] = { "cid", "bad_cid",
		"cid is 8-64 characters of A-Z a-z 0-9 _ -",
		"\"cid\" is required", 8, MSG_CID_MAX, "_-", NULL,
		NULL, NULL },
	[NAME_FROM] = { "from", "bad_from",
		"\"from\" is 1-32 printable UTF-8 characters",
		"\"from\" is required", 1, MSG_FROM_MAX, NULL, NULL,
		NULL, NULL },
	[NAME_TO] = { "to", "bad_target",
		"\"to\" is one of \"room\", \"others\", \"self\" or "
		"\"pid:\" and a member's public id (32 hex digits)",
		"\"to\" is required", 0, 0, NULL, targets, NULL, NULL },
	[NAME_VIA] = { "via", "bad_via",
		"\"via\" is one of poll, longpoll, sse, ws, sio, api",
		"\"via\" is required", 0, 0, NULL, NULL, NULL, NULL },
	[NAME_MID] = { "mid", "bad_mid",
		"\"mid\" is 1-64 characters of A-Z a-z 0-9 _ -",
		"\"mid\" is required", 1, MSG_MID_MAX, "_-", NULL,
		NULL, NULL },
};

const char *
names_key(enum name_kind k)
{
	return rules[k].key;
}

/* 1 if s[0..len) is min..max printable UTF-8 characters (no C0, DEL, C1). */
static int
printable(const char *s, size_t len, size_t min, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	for (size_t i = 0; i < len; chars++) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (!n || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    chars >= max)
			return 0;
		i += n;
	}
	return chars >= min;
}

static int
same(const char *w, const char *s, size_t len)
{
	return strlen(w) == len && !memcmp(w, s, len);
}

/* 1 if s[0..len) is "pid:" and MSG_PID_LEN lower-case hex digits. */
static int
pid_target(const char *s, size_t len)
{
	if (len != PID_PREFIX_LEN + MSG_PID_LEN ||
	    memcmp(s, PID_PREFIX, PID_PREFIX_LEN))
		return 0;
	for (size_t i = PID_PREFIX_LEN; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

const char *
names_to_pid(const char *s, size_t len)
{
	return s && pid_target(s, len) ? s + PID_PREFIX_LEN : NULL;
}

int
names_word(enum name_kind k, const char *s, size_t len)
{
	if (s && k == NAME_VIA) {
		for (int i = 0; i < VIA__COUNT; i++)
			if (same(via_name((enum via)i), s, len))
				return i;
	} else if (s && k == NAME_TO && pid_target(s, len)) {
		return MSG_TO_PID;
	} else if (s && rules[k].words) {
		for (int i = 0; rules[k].words[i]; i++)
			if (same(rules[k].words[i], s, len))
				return i;
	}
	return -1;
}

int
names_valid(enum name_kind k, const char *s, size_t len)
{
	const struct name_rule *r = &rules[k];

	if (!s)
		return 0;
	if (k == NAME_TO || k == NAME_VIA)
		return names_word(k, s, len) >= 0;
	if (!r->extra)
		return printable(s, len, r->min, r->max);
	if (len < r->min || len > r->max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c && strchr(r->extra, c))))
			return 0;
	}
	return 1;
}

enum im_err
names_check(enum name_kind k, const char *s, size_t len, struct im_error *e)
{
	if (!s)
		return im_error_set(e, IM_EINVAL, rules[k].code, "%s",
				    rules[k].missing);
	if (!names_valid(k, s, len))
		return im_error_set(e, IM_EINVAL, rules[k].code, "%s",
				    rules[k].rule);
	for (int i = 0; rules[k].taken && rules[k].taken[i]; i++)
		if (same(rules[k].taken[i], s, len))
			return im_error_set(e, IM_EINVAL, rules[k].taken_code,
				"%s name \"%s\" is reserved by Socket.IO",
				rules[k].key, rules[k].taken[i]);
	return IM_OK;
}

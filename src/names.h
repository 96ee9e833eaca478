/* SPDX-License-Identifier: MIT */
/*
 * names: the rules for the names and words a client sends - room, event,
 * cid, from, to, via, mid - with their error codes and messages, in one table
 * that every transport checks against. A name is checked with its length,
 * so a string with an embedded NUL (possible in JSON) is refused, never
 * read as a shorter name.
 */
#ifndef IMLAB_NAMES_H
#define IMLAB_NAMES_H

#include <stddef.h>

#include "err.h"

enum name_kind {
	NAME_ROOM = 0,	/* 1-64 of A-Z a-z 0-9 _ . - */
	NAME_EVENT,	/* 1-32 of A-Z a-z 0-9 _ . : - */
	NAME_CID,	/* 8-64 of A-Z a-z 0-9 _ - */
	NAME_FROM,	/* 1-32 printable UTF-8 characters */
	NAME_TO,	/* room, others, self, pid:<public id> */
	NAME_VIA,	/* a transport: poll, longpoll, sse, ws, api */
	NAME_MID,	/* a client message id: 1-64 of A-Z a-z 0-9 _ - */
	NAME__COUNT
};

/* Returns the JSON member (and query parameter) a kind is read from:
 * "room", "event", ... (static). */
const char *names_key(enum name_kind k);

/* Returns 1 if s[0..len) obeys the rule of kind k, else 0 (s NULL: 0). */
int names_valid(enum name_kind k, const char *s, size_t len);

/* For the kinds that are words (NAME_TO, NAME_VIA): returns the index
 * of s[0..len) among them - its enum msg_target or enum via - or -1.
 * "pid:" and MSG_PID_LEN lower-case hex digits is NAME_TO's MSG_TO_PID. */
int names_word(enum name_kind k, const char *s, size_t len);

/* If s[0..len) is a direct-message target "pid:<32 hex digits>", returns
 * the public id in it (borrowed from s: MSG_PID_LEN bytes, followed by
 * what followed s), else NULL. */
const char *names_to_pid(const char *s, size_t len);

/* Checks s[0..len) against the rule of kind k. Returns IM_OK, or
 * IM_EINVAL with e filled with the kind's code ("bad_room") and message;
 * s NULL means absent and gets the kind's "is required" message. An
 * event name Socket.IO reserves (connect, disconnect, connect_error,
 * disconnecting, newListener, removeListener) is refused with the code
 * "reserved_event", whatever the transport. */
enum im_err names_check(enum name_kind k, const char *s, size_t len,
			struct im_error *e);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * redis_conn: what every connection of a node shares: the URL's parts,
 * connecting (timeouts, AUTH, SELECT, SCRIPT LOAD of redis_lua.h's
 * scripts), one checked command call, and the small helpers of ids.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "redis_node.h"
#include "redis_private.h"
#include "redis_lua.h"

static const char *const scripts[RDS__SCRIPTS] = {
	[RDS_HELLO] = RDS_LUA_HELLO,
	[RDS_PUBLISH] = RDS_LUA_PUBLISH,
	[RDS_PRESENCE] = RDS_LUA_PRESENCE,
	[RDS_REAP] = RDS_LUA_REAP,
};

/* Written by the first connection, before any thread starts; every later
 * SCRIPT LOAD returns the same digests. */
static char shas[RDS__SCRIPTS][41];

int
rds_url_parse(const char *url, struct rds_url *u, char *err, size_t errlen)
{
	const char *p = url, *at, *slash, *colon;
	char *end;
	size_t hl;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (!strncmp(p, "redis://", 8))
		p += 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at && (!slash || at < slash)) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		size_t ul = c ? (size_t)(c - p) : 0;
		size_t pl = c ? (size_t)(at - c - 1) : (size_t)(at - p);

		if (ul >= sizeof(u->user) || pl >= sizeof(u->pass))
			goto bad;
		memcpy(u->user, p, ul);
		memcpy(u->pass, c ? c + 1 : p, pl);
		p = at + 1;
	}
	hl = slash ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', hl);
	if (colon) {
		long v = strtol(colon + 1, &end, 10);

		if (end != p + hl || v < 1 || v > 65535)
			goto bad;
		u->port = (int)v;
		hl = (size_t)(colon - p);
	}
	if (!hl || hl >= sizeof(u->host))
		goto bad;
	memcpy(u->host, p, hl);
	if (slash && slash[1]) {
		long v = strtol(slash + 1, &end, 10);

		if (*end || v < 0 || v > 1000)
			goto bad;
		u->db = (int)v;
	}
	return 0;
bad:
	snprintf(err, errlen, "--redis: \"%s\" is not redis://[[USER]:PASS@]"
		 "HOST[:PORT][/DB]", url);
	return -1;
}

redisReply *
rds_call(redisContext *c, int argc, const char **argv, const size_t *len,
	 char *err, size_t errlen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, len);

	if (!r)
		snprintf(err, errlen, "%s", c->errstr[0] ? c->errstr :
			 "connection lost");
	return r;
}

/* One command that must not answer an error; 0 or -1 with err. */
static int
simple(redisContext *c, int argc, const char **argv, char *err,
       size_t errlen)
{
	redisReply *r = rds_call(c, argc, argv, NULL, err, errlen);
	int ok = r && r->type != REDIS_REPLY_ERROR;

	if (r && !ok)
		snprintf(err, errlen, "%s: %s", argv[0], r->str);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

redisContext *
rds_connect(const struct rds_url *u, int timeout_ms, char *err,
	    size_t errlen)
{
	struct timeval tv = { timeout_ms / 1000,
			      (timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(u->host, u->port, tv);
	char db[16];

	if (!c || c->err) {
		snprintf(err, errlen, "cannot reach Redis at %s:%d: %s",
			 u->host, u->port, c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK)
		goto fail;
	if (u->pass[0]) {
		const char *a[3] = { "AUTH", u->user, u->pass };

		if (u->user[0] ? simple(c, 3, a, err, errlen) :
		    simple(c, 2, (const char *[]){ "AUTH", u->pass }, err,
			   errlen))
			goto fail;
	}
	snprintf(db, sizeof(db), "%d", u->db);
	if (u->db && simple(c, 2, (const char *[]){ "SELECT", db }, err,
			    errlen))
		goto fail;
	for (int i = 0; i < RDS__SCRIPTS; i++) {
		const char *a[3] = { "SCRIPT", "LOAD", scripts[i] };
		redisReply *r = rds_call(c, 3, a, NULL, err, errlen);

		if (!r)
			goto fail;
		if (r->type != REDIS_REPLY_STRING || r->len != 40) {
			snprintf(err, errlen, "SCRIPT LOAD: %s",
				 r->type == REDIS_REPLY_ERROR ? r->str :
				 "unexpected reply");
			freeReplyObject(r);
			goto fail;
		}
		if (!shas[i][0])
			memcpy(shas[i], r->str, 41);
		freeReplyObject(r);
	}
	return c;
fail:
	if (!err[0] && c->errstr[0])
		snprintf(err, errlen, "%s", c->errstr);
	redisFree(c);
	return NULL;
}

const char *
rds_sha(enum rds_script s)
{
	return shas[s];
}

uint64_t
rds_entry_id(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return i ? v : 0;
}

void
rds_seed(uint64_t floor, char buf[24])
{
	uint64_t seed = (uint64_t)im_now_ms() << STORE_ID_SHIFT;

	if (seed < floor)
		seed = floor;
	snprintf(buf, 24, "%" PRIu64, seed);
}

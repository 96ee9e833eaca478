/* SPDX-License-Identifier: MIT */
/*
 * room_pid: a member's public id, two keyed SipHash-2-4 of its cid (the
 * keys random per server, or shared by the nodes of --redis), so a client
 * that asks for the pids of chosen cids learns nothing of others.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "room.h"
#include "room_private.h"

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void
sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2];
	v[2] = rotl(v[2], 32);
}

uint64_t
room_pid_siphash(uint64_t k0, uint64_t k1, const unsigned char *s, size_t n)
{
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL,
			  k1 ^ 0x646f72616e646f6dULL,
			  k0 ^ 0x6c7967656e657261ULL,
			  k1 ^ 0x7465646279746573ULL };
	uint64_t m;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | s[i + (size_t)j];
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	m = (uint64_t)n << 56;
	for (size_t j = 0; i + j < n; j++)
		m |= (uint64_t)s[i + j] << (8 * j);
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void
rooms_pid(const struct rooms *rs, const char *cid, char pid[MSG_PID_LEN + 1])
{
	const unsigned char *p = (const unsigned char *)cid;
	size_t n;

	if (!cid || !*cid) {
		pid[0] = '\0';
		return;
	}
	n = strlen(cid);
	snprintf(pid, MSG_PID_LEN + 1, "%016" PRIx64 "%016" PRIx64,
		 room_pid_siphash(rs->key[0], rs->key[1], p, n),
		 room_pid_siphash(rs->key[2], rs->key[3], p, n));
}

void
rooms_pid_set_key(struct rooms *rs, const unsigned char key[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t k = 0;

		for (int j = 0; j < 8; j++)
			k = (k << 8) | key[i * 8 + j];
		rs->key[i] = k;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * redis_lua: the Lua scripts that change the shared state, each one
 * atomic in Redis. Every script takes ARGV[1] = the key prefix P; those
 * that append to the stream take ARGV[2] = floor (the caller's newest
 * applied id: a new id is above it), ARGV[3] = seed (the clock rule's
 * first id, used when P.."seq" is missing: Redis lost its data) and
 * ARGV[4] = the stream's approximate MAXLEN. Keys (never declared: one
 * Redis, not a cluster):
 *   P.."seq"         the last id handed out (INCR)
 *   P.."log"         the stream: entry "ID-0" with fields r e f p c v t s d
 *                    (room, event, from, pid, cid, via, to, ts ms, data)
 *                    and, for a direct message (t "3"), o k (the
 *                    recipient's pid and cid; nodes only, never clients)
 *   P.."epoch"       a random token: changes when Redis lost its data
 *   P.."key"         the shared pid key (64 hex digits)
 *   P.."mid:"SHA1    "id ts" of a publish with a mid (EX the mid ttl)
 *   P.."pm:"ROOM     hash pid -> how many nodes hold the member
 *   P.."pi:"ROOM     hash pid -> "from\nvia" (for listings)
 *   P.."nm:"NODE     hash "room\npid" -> "cid\nfrom\nvia": a node's members
 *   P.."nodes"       set of the node ids that hold members
 *   P.."hb:"NODE     the node's heartbeat (PX its ttl)
 */
#ifndef IMLAB_REDIS_LUA_H
#define IMLAB_REDIS_LUA_H

/* Functions the appending scripts share: nextid(), emit(), leave(). */
#define RDS_LUA_COMMON \
"local P = ARGV[1]\n" \
"local function fmt(x) return string.format('%.0f', x) end\n" \
"local function nextid()\n" \
"  local seq = P .. 'seq'\n" \
"  if redis.call('EXISTS', seq) == 0 then\n" \
"    redis.call('SET', seq, ARGV[3]) end\n" \
"  local id = redis.call('INCR', seq)\n" \
"  local f = tonumber(ARGV[2])\n" \
"  local top = redis.call('XREVRANGE', P .. 'log', '+', '-', 'COUNT', 1)\n" \
"  if #top > 0 then\n" \
"    local t = tonumber(string.match(top[1][1], '^(%d+)'))\n" \
"    if t > f then f = t end\n" \
"  end\n" \
"  if id <= f then id = f + 1; redis.call('SET', seq, fmt(id)) end\n" \
"  return id\n" \
"end\n" \
"local function emit(r, e, f, p, c, v, t, s, d, o, k)\n" \
"  local id = nextid()\n" \
"  local x = {'XADD', P .. 'log', 'MAXLEN', '~', ARGV[4],\n" \
"    fmt(id) .. '-0', 'r', r, 'e', e, 'f', f, 'p', p, 'c', c, 'v', v,\n" \
"    't', t, 's', s, 'd', d}\n" \
"  if o then\n" \
"    x[#x + 1] = 'o'; x[#x + 1] = o; x[#x + 1] = 'k'; x[#x + 1] = k end\n" \
"  redis.call(unpack(x))\n" \
"  return id\n" \
"end\n" \
"local function leave(r, p, c, f, v, s)\n" \
"  local n = redis.call('HINCRBY', P .. 'pm:' .. r, p, -1)\n" \
"  if n <= 0 then\n" \
"    redis.call('HDEL', P .. 'pm:' .. r, p)\n" \
"    redis.call('HDEL', P .. 'pi:' .. r, p)\n" \
"    emit(r, 'leave', f, p, c, v, '0', s,\n" \
"      '{\"transport\":\"' .. v .. '\"}')\n" \
"  end\n" \
"end\n"

/* HELLO: ARGV[4] a fresh epoch token. Sets the epoch if missing, raises
 * the sequence to the seed if it is missing or below floor; returns
 * {epoch, seq, first entry, last entry, first entry after floor,
 *  max-deleted-entry-id} (entries "0" when none). */
#define RDS_LUA_HELLO \
"local P = ARGV[1]\n" \
"local ep = redis.call('GET', P .. 'epoch')\n" \
"if not ep then ep = ARGV[4]; redis.call('SET', P .. 'epoch', ep) end\n" \
"local seq = redis.call('GET', P .. 'seq')\n" \
"if not seq or tonumber(seq) < tonumber(ARGV[2]) then\n" \
"  seq = ARGV[3]; redis.call('SET', P .. 'seq', seq) end\n" \
"local function one(r) if #r > 0 then return r[1][1] end return '0' end\n" \
"local L = P .. 'log'\n" \
"local f = one(redis.call('XRANGE', L, '-', '+', 'COUNT', 1))\n" \
"local t = one(redis.call('XREVRANGE', L, '+', '-', 'COUNT', 1))\n" \
"local a = one(redis.call('XRANGE', L, '(' .. ARGV[2] .. '-0', '+',\n" \
"  'COUNT', 1))\n" \
"local md = '0'\n" \
"if redis.call('EXISTS', L) == 1 then\n" \
"  local info = redis.call('XINFO', 'STREAM', L)\n" \
"  for i = 1, #info, 2 do\n" \
"    if info[i] == 'max-deleted-entry-id' then md = info[i + 1] end\n" \
"  end\n" \
"end\n" \
"return {ep, seq, f, t, a, md}\n"

/* PUBLISH: ARGV[5] mid ttl s, [6] mid ("" none), [7..15] r e f p c v t s
 * d, [16] the recipient's pid (t "3", a direct message; else ""). Returns
 * {id, ts, dup}: a mid seen within its ttl returns the original's id and
 * ts with dup 1 and appends nothing; a direct message to a pid that no
 * node holds as a member of the room returns {"0", "0", 2}. The
 * recipient's cid is found in the nodes' member hashes (nm:), so the
 * entry carries it (field k) to every node. */
#define RDS_LUA_PUBLISH RDS_LUA_COMMON \
"local mk = nil\n" \
"if ARGV[6] ~= '' then\n" \
"  mk = P .. 'mid:' .. redis.sha1hex(ARGV[7] .. '\\0' .. ARGV[11] ..\n" \
"    '\\0' .. ARGV[6])\n" \
"  local old = redis.call('GET', mk)\n" \
"  if old then\n" \
"    local i, s = string.match(old, '^(%d+) (%d+)$')\n" \
"    if i then return {i, s, 1} end\n" \
"  end\n" \
"end\n" \
"local o, k = nil, nil\n" \
"if ARGV[13] == '3' then\n" \
"  o = ARGV[16]\n" \
"  local field = ARGV[7] .. '\\n' .. o\n" \
"  if o ~= '' and redis.call('HEXISTS', P .. 'pm:' .. ARGV[7], o) == 1\n" \
"  then\n" \
"    for _, x in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do\n" \
"      local v = redis.call('HGET', P .. 'nm:' .. x, field)\n" \
"      if v then k = string.match(v, '^(.-)\\n'); if k then break end end\n" \
"    end\n" \
"  end\n" \
"  if not k or k == '' then return {'0', '0', 2} end\n" \
"end\n" \
"local id = emit(ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11],\n" \
"  ARGV[12], ARGV[13], ARGV[14], ARGV[15], o, k)\n" \
"if mk then\n" \
"  redis.call('SET', mk, fmt(id) .. ' ' .. ARGV[14], 'EX', ARGV[5]) end\n" \
"return {fmt(id), ARGV[14], 0}\n"

/* PRESENCE: ARGV[5] node, [6] "join" or "leave", [7..12] r c p f v s.
 * A node's join of (room, pid) counts once (HSETNX), its leave once
 * (HDEL); the first node's join and the last node's leave append the
 * join/leave message. Returns 1, or 0 for a repeat. */
#define RDS_LUA_PRESENCE RDS_LUA_COMMON \
"local nm = P .. 'nm:' .. ARGV[5]\n" \
"local field = ARGV[7] .. '\\n' .. ARGV[9]\n" \
"if ARGV[6] == 'join' then\n" \
"  redis.call('SADD', P .. 'nodes', ARGV[5])\n" \
"  if redis.call('HSETNX', nm, field, ARGV[8] .. '\\n' .. ARGV[10] ..\n" \
"      '\\n' .. ARGV[11]) == 0 then return 0 end\n" \
"  local n = redis.call('HINCRBY', P .. 'pm:' .. ARGV[7], ARGV[9], 1)\n" \
"  redis.call('HSET', P .. 'pi:' .. ARGV[7], ARGV[9],\n" \
"    ARGV[10] .. '\\n' .. ARGV[11])\n" \
"  if n == 1 then\n" \
"    emit(ARGV[7], 'join', ARGV[10], ARGV[9], ARGV[8], ARGV[11], '0',\n" \
"      ARGV[12], '{\"transport\":\"' .. ARGV[11] .. '\"}')\n" \
"  end\n" \
"  return 1\n" \
"end\n" \
"if redis.call('HDEL', nm, field) == 0 then return 0 end\n" \
"leave(ARGV[7], ARGV[9], ARGV[8], ARGV[10], ARGV[11], ARGV[12])\n" \
"return 1\n"

/* REAP: ARGV[5] ts. Every node in P.."nodes" whose heartbeat expired:
 * its members leave (as the last node's leave does), its hash and entry
 * go. Returns how many nodes were reaped. */
#define RDS_LUA_REAP RDS_LUA_COMMON \
"local gone = 0\n" \
"for _, x in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do\n" \
"  if redis.call('EXISTS', P .. 'hb:' .. x) == 0 then\n" \
"    local nm = P .. 'nm:' .. x\n" \
"    local all = redis.call('HGETALL', nm)\n" \
"    for i = 1, #all, 2 do\n" \
"      local r, p = string.match(all[i], '^(.-)\\n(.*)$')\n" \
"      local c, f, v = string.match(all[i + 1], '^(.-)\\n(.-)\\n(.*)$')\n" \
"      if r and c then leave(r, p, c, f, v, ARGV[5]) end\n" \
"    end\n" \
"    redis.call('DEL', nm)\n" \
"    redis.call('SREM', P .. 'nodes', x)\n" \
"    gone = gone + 1\n" \
"  end\n" \
"end\n" \
"return gone\n"

#endif

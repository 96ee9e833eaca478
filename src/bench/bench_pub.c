/* SPDX-License-Identifier: MIT */
/*
 * bench_pub: imlab-bench's libcurl side (see bench_pub.h): the blocking
 * control requests, parsed with json-c, and the publisher thread, which
 * POSTs over one keep-alive connection (to imlab's /api/rooms/ROOM/
 * messages, or with --peer nchan the envelope itself to /nchan/pub?id=).
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "bench_pub.h"

struct buf {
	char *p;
	size_t len;
};

static size_t
buf_write(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *np;

	if (b->len + add > (16u << 20))
		return 0;
	np = realloc(b->p, b->len + add + 1);
	if (!np)
		return 0;
	memcpy(np + b->len, data, add);
	b->p = np;
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* GETs url + path; returns the parsed JSON body of a 200, or NULL. */
static struct json_object *
get_json(const struct bench_opts *o, const char *path, char *err,
	 size_t errlen)
{
	char url[512];
	struct buf b = { NULL, 0 };
	struct json_object *j = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;
	long code = 0;

	if (!c) {
		snprintf(err, errlen, "libcurl failed");
		return NULL;
	}
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "GET %.160s: %s", url,
			 curl_easy_strerror(rc));
	else if (code != 200)
		snprintf(err, errlen, "GET %.160s: HTTP %ld", url, code);
	else if (!b.p || !(j = json_tokener_parse(b.p)))
		snprintf(err, errlen, "GET %.160s: not JSON", url);
	free(b.p);
	return j;
}

int
bench_pub_last_id(const struct bench_opts *o, uint64_t *id, char *err,
		  size_t errlen)
{
	struct json_object *j = get_json(o, "/api/info", err, errlen), *v;
	int ret = -1;

	if (!j)
		return -1;
	if (json_object_object_get_ex(j, "last_id", &v)) {
		*id = json_object_get_uint64(v);
		ret = 0;
	} else {
		snprintf(err, errlen, "/api/info has no last_id");
	}
	json_object_put(j);
	return ret;
}

long
bench_pub_open(const struct bench_opts *o, enum bench_tp tp)
{
	char err[256];
	struct json_object *j = get_json(o, "/api/stats", err, sizeof(err));
	struct json_object *t, *x, *v;
	const char *name = bench_tp_name(tp);
	long n = -1;

	if (!j)
		return -1;
	if (tp == BENCH_SIO || tp == BENCH_SIO_POLLING)
		name = "sio";	/* both are the server's one transport */
	if (json_object_object_get_ex(j, "transports", &t) &&
	    json_object_object_get_ex(t, name, &x) &&
	    json_object_object_get_ex(x, "open", &v))
		n = (long)json_object_get_int64(v);
	json_object_put(j);
	return n;
}

/* ---- the publisher thread ------------------------------------------ */

void *
bench_pub_thread(void *arg)
{
	struct bench_run *r = arg;
	const struct bench_opts *o = r->o;
	struct curl_slist *h = NULL;
	size_t cap = (size_t)o->size + 512;
	char *body = malloc(cap), *data = malloc(cap), url[512], room[96];
	struct buf b = { NULL, 0 };
	CURL *c = curl_easy_init();
	int64_t t0 = bench_now_ns();
	int nchan = o->peer == BENCH_PEER_NCHAN;
	long conns;

	if (!body || !data || !c) {
		atomic_store(&r->pub_errors, o->msgs);
		goto out;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	for (int k = 0; k < o->msgs && !*r->interrupted; k++) {
		int room_k = k % o->rooms, n, pad;
		int64_t t;
		long code = 0;
		CURLcode rc;

		if (o->rate_milli > 0) {
			int64_t due = t0 + (int64_t)k * 1000000000000ll /
				      o->rate_milli;
			struct timespec ts = {
				.tv_sec = due / 1000000000ll,
				.tv_nsec = due % 1000000000ll
			};

			if (due > bench_now_ns())
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
						&ts, NULL);
		}
		bench_room_name(r, room_k, room, sizeof(room));
		if (nchan)
			snprintf(url, sizeof(url), "%s/nchan/pub?id=%s",
				 o->url, room);
		else
			snprintf(url, sizeof(url), "%s/api/rooms/%s/messages",
				 o->pub_url[0] ? o->pub_url : o->url, room);
		t = bench_now_ns();
		n = snprintf(data, cap, "{\"t\":%" PRId64 ",\"seq\":%d,"
			     "\"pad\":\"\"}", t, k);
		pad = o->size - n;
		if (pad > 0) {
			/* insert the padding between the quotes */
			memset(data + n - 2, 'x', (size_t)pad);
			memcpy(data + n - 2 + pad, "\"}", 3);
		}
		if (nchan)	/* delivered as is: the envelope itself */
			n = snprintf(body, cap, "{\"id\":%d,\"room\":\"%s\","
				     "\"event\":\"%s\",\"from\":\"bench\","
				     "\"data\":%s}", k + 1, room, BENCH_EVENT,
				     data);
		else
			n = snprintf(body, cap, "{\"event\":\"%s\",\"from\":"
				     "\"bench\",\"cid\":\"%s-pub\",\"data\":"
				     "%s}", BENCH_EVENT, r->cid, data);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
		b.len = 0;
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
		r->pub_connects += conns;
		bench_hist_add(&r->pub_rtt, (uint64_t)(bench_now_ns() - t));
		if (!k)
			r->t_send_first = t;
		r->t_send_last = t;
		/* nchan: 201 with subscribers, 202 queued without */
		if (rc == CURLE_OK && (code == 201 || (nchan && (code == 200 ||
							   code == 202)))) {
			r->acked[k] = 1;
			atomic_fetch_add(&r->expected, (unsigned long long)
					 r->room_subs[room_k]);
		} else {
			atomic_fetch_add(&r->pub_errors, 1);
		}
		atomic_fetch_add(&r->sent, 1);
	}
out:
	r->t_pub_end = bench_now_ns();
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	free(b.p);
	free(body);
	free(data);
	atomic_store(&r->pub_done, 1);
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * sio_app_ops: the events a Socket.IO client of imlab's rooms sends,
 * "join" {room, since}, "leave" {room} and "send" {room, event, data, to,
 * mid} with binary attachments, each answered by its ack (or an error ack
 * {error:{code, message}} with the codes of /ws). See sio_app.h.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "jbuf.h"
#include "joins.h"
#include "jparse.h"
#include "names.h"
#include "server_ctx.h"
#include "sio_app.h"
#include "sio_app_private.h"

#define ACK_MAX 512		/* bytes of an ack we build */

/* Sends the ack id with the JSON body[0..len) as its one argument. */
static int
ack(struct sa *sa, long long id, const char *body, size_t len)
{
	char head[32];
	size_t hn;
	char *b;
	int rc;

	if (id < 0)
		return 0;
	hn = sio_encode_head(head, sizeof(head), SIO_ACK, NULL, 0, 0, id);
	b = malloc(hn + len + 3);
	if (!b)
		return -1;
	memcpy(b, head, hn);
	b[hn] = '[';
	memcpy(b + hn + 1, body, len);
	b[hn + 1 + len] = ']';
	rc = sio_send(sa->c, b, hn + len + 2, NULL, 0);
	free(b);
	return rc;
}

/* An error ack {"error":{"code","message"}}. */
static int
ack_error(struct sa *sa, long long id, const char *code, const char *msg)
{
	char mem[ACK_MAX];
	struct jbuf b;

	jbuf_init(&b, mem, sizeof(mem));
	jbuf_printf(&b, "{\"error\":{\"code\":\"%s\",\"message\":", code);
	jbuf_str(&b, msg);
	jbuf_puts(&b, "}}");
	return b.over ? -1 : ack(sa, id, mem, b.len);
}

static int
ack_e(struct sa *sa, long long id, const struct im_error *e)
{
	return ack_error(sa, id, e->code, e->message);
}

static int
op_join(struct sa *sa, struct json_object *o, long long id)
{
	struct im_error e = { 0 };
	const char *name;
	uint64_t since, last;
	char mem[ACK_MAX];
	struct jbuf b;
	size_t len;

	if (joins_decode(o, &name, &len, &since, &e) ||
	    joins_add(sa->srv, &sa->sub, &sa->cur, name, len, since, &last,
		      &e))
		return ack_e(sa, id, &e);
	jbuf_init(&b, mem, sizeof(mem));
	jbuf_puts(&b, "{\"room\":");
	jbuf_str(&b, name);
	jbuf_printf(&b, ",\"last_id\":%" PRIu64 "}", last);
	return ack(sa, id, mem, b.len);
}

static int
op_leave(struct sa *sa, struct json_object *o, long long id)
{
	struct im_error e = { 0 };
	char mem[ACK_MAX];
	const char *name;
	struct jbuf b;
	size_t len;

	if (joins_decode(o, &name, &len, NULL, &e) ||
	    joins_del(sa->srv, &sa->sub, &sa->cur, name, len, &e))
		return ack_e(sa, id, &e);
	jbuf_init(&b, mem, sizeof(mem));
	jbuf_puts(&b, "{\"room\":");
	jbuf_str(&b, name);
	jbuf_puts(&b, "}");
	return ack(sa, id, mem, b.len);
}

/* Fills the placeholders of data (borrowed) with the attachments, in
 * imlab's binary JSON form; a lone placeholder is replaced too. Returns a
 * new reference (the caller puts it), or NULL with e filled. */
static struct json_object *
fill(struct json_object *data, const struct sio_bin *att, unsigned natt,
     struct im_error *e)
{
	const unsigned char *ptr[SIO_MAX_ATTACH];
	size_t len[SIO_MAX_ATTACH];
	struct binary_frames f = { .n = (int)natt, .p = ptr, .len = len };
	struct json_object *wrap = json_object_new_array(), *out = NULL;

	for (unsigned i = 0; i < natt; i++) {
		ptr[i] = (const unsigned char *)att[i].data;
		len[i] = att[i].len;
	}
	if (!wrap) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	/* binary_fill() looks under its argument: wrap a lone value */
	json_object_array_add(wrap, json_object_get(data));
	if (binary_fill(wrap, &f, e) == IM_OK) {
		if (f.used != (natt < 64 ? (1ull << natt) - 1 : ~0ull))
			im_error_set(e, IM_EINVAL, "bad_binary", "an "
				     "attachment no placeholder names");
		else
			out = json_object_get(json_object_array_get_idx(wrap,
									0));
	}
	json_object_put(wrap);
	return out;
}

static int
op_send(struct sa *sa, struct json_object *o, const char *text,
	size_t text_len, long long id, const struct sio_bin *att,
	unsigned natt)
{
	struct hub_pub p = { 0 };
	struct hub_ack a;
	struct im_error e = { 0 };
	struct json_object *data = NULL;
	char mem[ACK_MAX];
	struct jbuf b;

	if (!o || !json_object_is_type(o, json_type_object))
		return ack_error(sa, id, "bad_request",
				 "send takes an object");
	p.from = sa->sub.from;
	p.cid = sa->sub.cid[0] ? sa->sub.cid : NULL;
	p.via = VIA_SIO;
	if (hub_pub_decode(&p, o, text, text_len, HUB_PUB_WS, "bad_request",
			   &e) != IM_OK)
		return ack_e(sa, id, &e);
	if (natt) {
		/* the attachments become the binary JSON form */
		if (!json_object_object_get_ex(o, "data", &data))
			return ack_error(sa, id, "bad_binary", "attachments "
					 "must be placeholders in \"data\"");
		data = fill(data, att, natt, &e);
		if (!data)
			return ack_e(sa, id, &e);
		p.data = data;
		p.data_json = NULL;
		p.data_len = 0;
	}
	if (hub_publish(&sa->srv->hub, &p, &a, &e) != IM_OK) {
		json_object_put(data);
		return ack_e(sa, id, &e);
	}
	json_object_put(data);
	jbuf_init(&b, mem, sizeof(mem));
	jbuf_printf(&b, "{\"id\":%" PRIu64 ",\"ts\":%" PRId64 "}", a.id,
		    a.ts);
	return ack(sa, id, mem, b.len);
}

int
sio_app_ops_event(void *h, int n, const struct sio_pkt *p,
		  const struct sio_bin *att, unsigned natt, int is_ack)
{
	struct sa *sa = h;
	size_t pos = 0, st, el, ast = 0, alen = 0;
	struct json_object *o = NULL;
	struct im_error e;
	int rc;

	(void)n;
	if (is_ack || !sio_array_next(p->data, p->len, &pos, &st, &el))
		return 0;	/* we ask for no acks */
	if (sio_array_next(p->data, p->len, &pos, &ast, &alen) &&
	    jparse(p->data + ast, alen, &o, &e))
		return ack_error(sa, p->ack, "bad_json", "bad argument");
#define IS(s) (el == sizeof(s) + 1 && !memcmp(p->data + st + 1, s, el - 2))
	if (IS("join"))
		rc = op_join(sa, o, p->ack);
	else if (IS("leave"))
		rc = op_leave(sa, o, p->ack);
	else if (IS("send"))
		rc = op_send(sa, o, p->data + ast, alen, p->ack, att, natt);
	else
		rc = ack_error(sa, p->ack, "bad_op", "the events are join, "
			       "leave and send");
#undef IS
	json_object_put(o);
	return rc;
}

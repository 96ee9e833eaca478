/* SPDX-License-Identifier: MIT */
/*
 * fuzz_jparse: libFuzzer target for the strict JSON parser (src/jparse.h),
 * the one place untrusted JSON enters imlab. Besides what the sanitizers
 * catch, it checks the parser's promise: whatever jparse() accepts, json-c
 * writes back as JSON that jparse() accepts again (so no envelope can
 * carry JSON that clients cannot parse), and a refusal always names
 * "bad_json".
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL, *again = NULL;
	struct im_error e = { 0 };
	const char *out;

	if (jparse((const char *)data, size, &o, &e)) {
		if (!e.code || strcmp(e.code, "bad_json"))
			abort();
		return 0;
	}
	out = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!out || jparse(out, strlen(out), &again, &e)) {
		fprintf(stderr, "accepted, but written back as %s (%s)\n",
			out ? out : "(null)", e.message);
		abort();
	}
	json_object_put(again);
	json_object_put(o);
	return 0;
}

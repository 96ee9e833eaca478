/* SPDX-License-Identifier: MIT */
/*
 * trun: the one way a test program runs its Check suite, so every test's
 * main() is a line: run, report, map to automake's exit codes.
 */
#ifndef IMLAB_TRUN_H
#define IMLAB_TRUN_H

#include <check.h>

/* Runs s (taking ownership) and returns 0 if every test passed, else 1. */
static inline int
trun(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * tp_coalesce: the busy measure (windows of co->ms, counted writes) and
 * the defer predicate. Pure arithmetic: no lock, no thread, no I/O.
 */
#include "autoconf.h"

#include "tp_coalesce.h"

void
tp_coalesce_init(struct tp_coalesce *co, int64_t ms)
{
	*co = (struct tp_coalesce){ .ms = ms };
}

void
tp_coalesce_roll(struct tp_coalesce *co, int64_t now)
{
	if (now - co->win_start >= co->ms) {
		co->busy = co->win_writes >= TP_BUSY_WRITES;
		co->win_start = now;
		co->win_writes = 0;
	}
}

int
tp_coalesce_defer(const struct tp_coalesce *co, int64_t now,
		  int64_t last_write, int due)
{
	return co->on && co->busy && !due && now - last_write < co->ms;
}

void
tp_coalesce_count(struct tp_coalesce *co, int64_t now)
{
	tp_coalesce_roll(co, now);
	co->win_writes++;
}

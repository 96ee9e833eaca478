/* SPDX-License-Identifier: MIT */
/*
 * wire_meter: what the kernel counted on a TCP socket (see wire_meter.h).
 * tcpi_bytes_received is every byte that arrived (a FIN counts one),
 * SIOCINQ what of it the server has not read yet; tcpi_bytes_acked plus
 * SIOCOUTQ is everything the server wrote (its own FIN counts one once
 * queued).
 */
#include "autoconf.h"

#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include "wire_meter.h"

/* Linux TCP states (include/net/tcp_states.h) */
enum {
	ST_FIN_WAIT1 = 4, ST_FIN_WAIT2 = 5, ST_TIME_WAIT = 6,
	ST_CLOSE = 7, ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9, ST_CLOSING = 11
};

int
wire_meter_read(int fd, uint64_t *up, uint64_t *down, int final)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int inq = 0, outq = 0, fin_in, fin_out;

	memset(&ti, 0, sizeof(ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) +
		  sizeof(ti.tcpi_bytes_received) ||
	    ioctl(fd, SIOCINQ, &inq) || ioctl(fd, SIOCOUTQ, &outq))
		return -1;
	fin_in = ti.tcpi_state == ST_CLOSE_WAIT ||
		 ti.tcpi_state == ST_LAST_ACK ||
		 ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT;
	if (ti.tcpi_state == ST_CLOSE) {
		/* closed by the FINs (from FIN_WAIT2 or LAST_ACK), or by a
		 * reset, which leaves an error unless it was reported */
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		fin_in = !err;
	}
	fin_out = ti.tcpi_state == ST_FIN_WAIT1 ||
		  ti.tcpi_state == ST_FIN_WAIT2 ||
		  ti.tcpi_state == ST_CLOSING ||
		  ti.tcpi_state == ST_TIME_WAIT || ti.tcpi_state == ST_LAST_ACK;
	/* CLOSE with no error is LAST_ACK done: our FIN was acked too (it
	 * counts one in tcpi_bytes_acked) */
	if (ti.tcpi_state == ST_CLOSE)
		fin_out = fin_in;
	*up = ti.tcpi_bytes_received - (uint64_t)fin_in -
	      (final ? 0 : (uint64_t)inq);
	*down = ti.tcpi_bytes_acked + (uint64_t)outq - (uint64_t)fin_out;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bench harness's frame (bpf/minimal.bpf.c: map bench_frame, bench_restore_xdp), written by
 * user/bench.c before each case measured by the "restore" method: the case's original frame,
 * which the harness puts back before every repetition.
 */
#ifndef BPFGUARD_MAPS_BENCH_H
#define BPFGUARD_MAPS_BENCH_H

#include "abi.h"

/* The largest frame the harness puts back: user/bench.c's BENCH_PKT_MAX. */
#define BENCH_FRAME_MAX 1536

struct bench_frame {
	__u32 len; /* bytes of b[] the frame has: 14..BENCH_FRAME_MAX */
	__u32 pad;
	__u8 b[BENCH_FRAME_MAX];
};
ABI_ASSERT_SIZE(struct bench_frame, 8 + BENCH_FRAME_MAX);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * verifier-heat [--learn] [--top N] [PROGRAM]: where the verifier spends its work on one of the
 * guard's programs (default guard_tc_ingress, the largest): the instructions it walks in the
 * main program and in each global function, then the N source lines it walks most (default
 * 30). --learn loads it with learning compiled in (cfg_learn_mask set), as the tests' budget
 * with learning does. Needs root. Built by `make tests`; see user/vheat.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "guard.skel.h"
#include "user/vheat.h"

static void put_line(const char *line, void *arg)
{
	fprintf(arg, "%s\n", line);
}

static int usage(void)
{
	fprintf(stderr, "usage: verifier-heat [--learn] [--top N] [PROGRAM]\n"
			"  PROGRAM: guard_xdp, guard_tc_ingress (default) or guard_tc_egress\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *prog = "guard_tc_ingress";
	struct guard *skel;
	struct vheat h;
	int i, learn = 0, err;
	long top = 30;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--learn")) {
			learn = 1;
		} else if (!strcmp(argv[i], "--top") && i + 1 < argc) {
			char *end;

			top = strtol(argv[++i], &end, 10);
			if (*end || top < 0)
				return usage();
		} else if (argv[i][0] == '-') {
			return usage();
		} else {
			prog = argv[i];
		}
	}
	skel = guard__open();
	if (!skel) {
		fprintf(stderr, "verifier-heat: cannot open the guard's BPF object: %s\n",
			strerror(errno));
		return 1;
	}
	skel->rodata->cfg_learn_mask = learn ? 1 : 0;
	err = vheat_load(skel->obj, prog, &h);
	if (err == -ENOENT) {
		fprintf(stderr, "verifier-heat: no program named %s\n", prog);
		guard__destroy(skel);
		return usage();
	}
	printf("%s%s: %s\n", prog, learn ? " with learning" : "",
	       err ? "the verifier refused it (the log's end says why: -v)" : "loaded");
	vheat_print(&h, (size_t)top, put_line, stdout);
	vheat_free(&h);
	guard__destroy(skel);
	return err ? 1 : 0;
}

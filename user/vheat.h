/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the verifier spends its work on a program: the instructions it walked, by function and
 * by source line, read from its log at level 2 (every instruction it walks, and a
 * "; text @ file:line" line where the source line changes; "Validating name() func#N..." where
 * it starts a global function). For developers: `build/verifier-heat` prints it, and the tests'
 * verifier budget (tests/bpf/harness.h) prints it when a program goes over.
 */
#ifndef BPFGUARD_VHEAT_H
#define BPFGUARD_VHEAT_H

#include <stddef.h>
#include <linux/types.h>

#define VHEAT_KEY_LEN 64 /* "file:line" or a function's name, cut to 63 characters */
#define VHEAT_SRC_LEN 96 /* a source line's text, cut to 95 */

struct vheat_item {
	char key[VHEAT_KEY_LEN];
	char src[VHEAT_SRC_LEN]; /* lines: the source text; functions: empty */
	__u64 insns;
};

struct vheat {
	struct vheat_item *funcs; /* the main program ("main"), then each global function */
	size_t n_funcs;
	struct vheat_item *lines;
	size_t n_lines;
	__u64 total; /* instruction lines in the log */
	__u64 processed; /* the verifier's own "processed N insns", 0 if the log has none */
};

/* Parses a level-2 log; funcs and lines sorted by insns, most first. 0 or -ENOMEM. */
int vheat_parse(const char *log, struct vheat *h);
void vheat_free(struct vheat *h);

struct bpf_object;
/*
 * Loads obj (opened, not loaded) with prog alone, at log level 2, and parses its log into h;
 * obj is then loaded (or its load failed: the log says why, and h still holds it). Returns the
 * load's result (0 or -errno); -ENOMEM when the 1 GB log buffer cannot be had.
 */
int vheat_load(struct bpf_object *obj, const char *prog, struct vheat *h);

/* Prints h: the functions, then the top lines (0: none), as "insns  share  key  source". */
void vheat_print(const struct vheat *h, size_t top, void (*out)(const char *line, void *arg),
		 void *arg);

#endif

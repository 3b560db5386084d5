// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/vheat.c: a verifier log at level 2 read into instructions by function
 * and by source line (state lines, branch notes and other text not counted; a source line
 * counted in every function it appears in; the verifier's total read), and the report.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "user/vheat.h"

static const char log_text[] =
	"func#0 @0\n"
	"func#1 @9\n"
	"0: R1=ctx() R10=fp0\n"
	"; int guard_xdp(struct xdp_md *ctx) @ guard.bpf.c:92\n"
	"0: (bf) r6 = r1                       ; R1=ctx() R6_w=ctx()\n"
	"1: (b7) r1 = 0                        ; R1_w=0\n"
	"; if (notes & (1u << i)) @ counters.h:59\n"
	"2: (57) r2 &= 1\n"
	"3: (15) if r2 == 0x0 goto pc+2        ; R2_w=0\n"
	"from 3 to 6: R2=0 R10=fp0\n"
	"; if (notes & (1u << i)) @ counters.h:59\n"
	"6: (57) r2 &= 2\n"
	"Func#1 ('guard_names_xdp') is global and assumed valid.\n"
	"7: (95) exit\n"
	"Validating guard_names_xdp() func#1...\n"
	"9: R1=ctx() R2=scalar()\n"
	"; return ~(((x & NAME_LOWS7) + NAME_LOWS7) | x | NAME_LOWS7); @ name.h:92\n"
	"9: (bf) r0 = r2\n"
	"10: (87) r0 = -r0\n"
	"; if (notes & (1u << i)) @ counters.h:59\n"
	"11: (95) exit\n"
	"processed 9 insns (limit 1000000) max_states_per_insn 1 total_states 2\n";

static const struct vheat_item *find(const struct vheat_item *v, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return &v[i];
	return NULL;
}

static void test_parse(void **state)
{
	const struct vheat_item *it;
	struct vheat h;

	(void)state;
	assert_int_equal(vheat_parse(log_text, &h), 0);
	assert_int_equal(h.total, 9);
	assert_int_equal(h.processed, 9);
	assert_int_equal(h.n_funcs, 2);
	/* sorted, most first: main 6, guard_names_xdp 3 */
	assert_string_equal(h.funcs[0].key, "main");
	assert_int_equal(h.funcs[0].insns, 6);
	assert_string_equal(h.funcs[1].key, "guard_names_xdp");
	assert_int_equal(h.funcs[1].insns, 3);
	assert_int_equal(h.n_lines, 3);
	it = find(h.lines, h.n_lines, "counters.h:59");
	assert_non_null(it);
	assert_int_equal(it->insns, 5); /* 2, 3, 6 and 7 (no new line) in main, 11 in the other */
	assert_string_equal(it->src, "if (notes & (1u << i))");
	assert_string_equal(h.lines[0].key, "counters.h:59");
	it = find(h.lines, h.n_lines, "guard.bpf.c:92");
	assert_non_null(it);
	assert_int_equal(it->insns, 2);
	it = find(h.lines, h.n_lines, "name.h:92");
	assert_non_null(it);
	assert_int_equal(it->insns, 2);
	/* the last " @ " splits the text from the place */
	assert_string_equal(it->src, "return ~(((x & NAME_LOWS7) + NAME_LOWS7) | x | NAME_LOWS7);");
	vheat_free(&h);
	assert_null(h.funcs);
}

/* A log without any instruction: main alone, nothing counted. */
static void test_empty(void **state)
{
	struct vheat h;

	(void)state;
	assert_int_equal(vheat_parse("", &h), 0);
	assert_int_equal(h.total, 0);
	assert_int_equal(h.n_funcs, 1);
	assert_int_equal(h.n_lines, 0);
	vheat_free(&h);
	/* instructions before any source line: counted by function only */
	assert_int_equal(vheat_parse("0: (b7) r0 = 0\n1: (95) exit", &h), 0);
	assert_int_equal(h.total, 2);
	assert_int_equal(h.funcs[0].insns, 2);
	assert_int_equal(h.n_lines, 0);
	vheat_free(&h);
}

static void collect(const char *line, void *arg)
{
	char *out = arg;

	strcat(out, line);
	strcat(out, "\n");
}

static void test_print(void **state)
{
	char out[2048] = "";
	struct vheat h;

	(void)state;
	assert_int_equal(vheat_parse(log_text, &h), 0);
	vheat_print(&h, 1, collect, out);
	assert_string_equal(out, "9 instructions walked (the verifier counts 9)\n"
				 "        6  66.7%  main\n"
				 "        3  33.3%  guard_names_xdp\n"
				 "        5  55.6%  counters.h:59        if (notes & (1u << i))\n");
	vheat_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

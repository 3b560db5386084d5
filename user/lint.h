/* SPDX-License-Identifier: GPL-2.0-only */
/* `bpfguard lint FILE…`: parse registry files and report every problem as file:line. */
#ifndef BPFGUARD_LINT_H
#define BPFGUARD_LINT_H

#include <stdio.h>

/* Returns the exit code: 0 clean, 1 problems found, 2 a file could not be read. */
int lint_run(char *const *files, int n, FILE *out);

#endif

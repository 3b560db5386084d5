/* SPDX-License-Identifier: GPL-2.0-only */
/* The command line: subcommands from one declarative table (name, usage, help, handler). */
#ifndef BPFGUARD_CLI_H
#define BPFGUARD_CLI_H

/* Parse argv and run the subcommand; returns the process exit code (0, 1 or 2). */
int cli_main(int argc, char **argv);

#endif

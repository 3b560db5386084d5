// SPDX-License-Identifier: GPL-2.0-only
/* bpfguard: the binary. Everything happens in the subcommands (cli.c). */
#include "user/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}

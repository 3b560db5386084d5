// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command line (DESIGN.md "Command line"): a table of subcommands, each with its usage,
 * help and handler; getopt_long per subcommand. Exit codes: 0 success, 1 a check failed or
 * problems found, 2 usage or system error, always with a message saying what to do.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "maps/guard_maps.h"
#include "user/attach.h"
#include "user/bench.h"
#include "user/changes.h"
#include "user/check.h"
#include "user/cli.h"
#include "user/daemon.h"
#include "user/lint.h"
#include "user/live.h"
#include "user/log.h"
#include "user/replay.h"
#include "user/stats.h"
#include "user/util.h"

#define DEFAULT_CONFIG "/etc/bpfguard/bpfguard.conf"

struct cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*fn)(const struct cmd *c, int argc, char **argv);
};

static const char *pin_dir_default(void)
{
	const char *env = getenv("BPFGUARD_PIN_DIR");

	return env && *env ? env : PIN_DIR;
}

static int usage_error(const struct cmd *c, const char *fmt, const char *arg)
{
	fprintf(stderr, "bpfguard %s: ", c->name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: bpfguard %s %s\n(see `bpfguard help %s`)\n", c->name, c->usage,
		c->name);
	return 2;
}

enum {
	OPT_PIN_DIR = 1000,
	OPT_JSON,
	OPT_CLIENT,
	OPT_AT,
	OPT_CLIENT_SIDE,
	OPT_V4,
	OPT_V6,
	OPT_QUICK,
	OPT_LIST,
	OPT_LIVE,
	OPT_TIMEOUT,
	OPT_CASE,
};

static const struct option all_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "client", required_argument, NULL, OPT_CLIENT },
	{ "at", required_argument, NULL, OPT_AT },
	{ "client-side", required_argument, NULL, OPT_CLIENT_SIDE },
	{ "v4", required_argument, NULL, OPT_V4 },
	{ "v6", required_argument, NULL, OPT_V6 },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "case", required_argument, NULL, OPT_CASE },
	{ 0 },
};

struct parsed {
	const char *config;
	const char *pin_dir;
	const char *client;
	const char *at;
	const char *client_side;
	long v4, v6;
	bool json, quick;
	const char *list; /* add, del: --list */
	bool live; /* check --live */
	long timeout; /* add, del: --timeout SEC, -1 if not given */
	const char *cases; /* bench: --case NAME[,NAME...] */
};

/* Options valid for a command are named in its usage line; reject the others. */
static int parse(const struct cmd *c, int argc, char **argv, struct parsed *p)
{
	int opt;

	memset(p, 0, sizeof(*p));
	p->pin_dir = pin_dir_default();
	p->v4 = p->v6 = -1;
	p->timeout = -1;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:vh", all_opts, NULL)) != -1) {
		const char *name = NULL;

		switch (opt) {
		case 'c':
			p->config = optarg;
			name = "[-c CONF]";
			break;
		case 'v':
			log_set_level(log_get_level() + 1);
			continue;
		case OPT_PIN_DIR:
			p->pin_dir = optarg;
			name = "[--pin-dir";
			break;
		case OPT_JSON:
			p->json = true;
			name = "[--json]";
			break;
		case OPT_CLIENT:
			p->client = optarg;
			name = "[--client IP";
			break;
		case OPT_AT:
			p->at = optarg;
			name = "[--at";
			break;
		case OPT_CLIENT_SIDE:
			p->client_side = optarg;
			name = "[--client-side";
			break;
		case OPT_V4:
		case OPT_V6: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 20000000)
				return usage_error(c, "'%s' is not a count from 0 to 20000000",
						   optarg);
			if (opt == OPT_V4)
				p->v4 = v;
			else
				p->v6 = v;
			name = opt == OPT_V4 ? "[--v4" : "[--v6";
			break;
		}
		case OPT_QUICK:
			p->quick = true;
			name = "[--quick]";
			break;
		case OPT_LIST:
			p->list = optarg;
			name = "--list L";
			break;
		case OPT_LIVE:
			p->live = true;
			name = "[--live]";
			break;
		case OPT_TIMEOUT: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0 || v > 3600)
				return usage_error(c, "--timeout '%s': give seconds, 0 to 3600",
						   optarg);
			p->timeout = v;
			name = "[--timeout";
			break;
		}
		case OPT_CASE:
			p->cases = optarg;
			name = "[--case";
			break;
		case ':':
			return usage_error(c, "option %s needs a value", argv[optind - 1]);
		default:
			return usage_error(c, "unknown option '%s'", argv[optind - 1]);
		}
		if (name && !strstr(c->usage, name))
			return usage_error(c, "option %s does not apply to this command",
					   argv[optind - 1]);
	}
	return 0;
}

static int cmd_run(const struct cmd *c, int argc, char **argv)
{
	struct daemon_opts o;
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind != argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	o.config_path = p.config ? p.config : DEFAULT_CONFIG;
	o.pin_dir = p.pin_dir;
	return daemon_run(&o);
}

static int cmd_status(const struct cmd *c, int argc, char **argv)
{
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind != argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	return daemon_status(p.pin_dir, p.json);
}

static int cmd_stats(const struct cmd *c, int argc, char **argv)
{
	struct guard_stats st;
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind != argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (stats_read_pinned(p.pin_dir, &st))
		return 2;
	if (p.json)
		stats_print_json(stdout, &st);
	else
		stats_print_text(stdout, &st);
	return 0;
}

static int cmd_check(const struct cmd *c, int argc, char **argv)
{
	struct check_opts o = { 0 };
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error(c, "%s",
				   optind >= argc ? "give one NAME or IP to check" :
						    "give exactly one NAME or IP");
	o.config_path = p.config ? p.config : DEFAULT_CONFIG;
	o.target = argv[optind];
	o.client = p.client;
	o.at = p.at;
	o.json = p.json;
	o.pin_dir = p.pin_dir;
	/*
	 * --live, or no -c (and no --at) while a guard is pinned: what is in force, from its maps.
	 * Otherwise the policy built from the config.
	 */
	o.live = p.live;
	if (!p.live && !p.config && !p.at) {
		char path[PATH_MAX];

		/* a pin dir the user cannot read (mode 0700) is no guard: the config, as before */
		o.live = !access(pin_path(path, sizeof(path), p.pin_dir, GUARD_STR(MAP_RUN)), F_OK);
	}
	if (p.live && p.config)
		return usage_error(c, "%s", "give --live (the running guard) or -c CONF, not both");
	return check_run(&o);
}

static int cmd_replay(const struct cmd *c, int argc, char **argv)
{
	struct replay_opts o = { 0 };
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind != argc - 1)
		return usage_error(c, "%s", "give exactly one FILE.pcap");
	o.client_side = p.client_side;
	o.at = p.at;
	return replay_run(p.config ? p.config : DEFAULT_CONFIG, argv[optind], &o);
}

static int cmd_lint(const struct cmd *c, int argc, char **argv)
{
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind >= argc)
		return usage_error(c, "%s", "give at least one registry FILE");
	return lint_run(argv + optind, argc - optind, stdout);
}

static int cmd_bench(const struct cmd *c, int argc, char **argv)
{
	struct bench_opts o = { 0 };
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind != argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	o.json = p.json;
	o.quick = p.quick;
	o.v4 = p.v4;
	o.v6 = p.v6;
	o.cases = p.cases;
	return bench_run(&o);
}

/* add, del: persist a live change to a list and have the running guard load it. */
static int cmd_change(const struct cmd *c, int argc, char **argv)
{
	struct live_change_opts o = { 0 };
	struct parsed p;
	int err = parse(c, argc, argv, &p);

	if (err)
		return err;
	if (optind >= argc)
		return usage_error(c, "%s", "give at least one NAME, address or CIDR");
	if (!p.list)
		return usage_error(c, "%s", "--list L is required: the [list] to change");
	o.config_path = p.config;
	o.default_config = DEFAULT_CONFIG;
	o.pin_dir = p.pin_dir;
	o.list = p.list;
	o.op = !strcmp(c->name, "add") ? CHANGE_ADD : CHANGE_DEL;
	o.entries = argv + optind;
	o.n_entries = argc - optind;
	o.timeout_s = p.timeout >= 0 ? (unsigned int)p.timeout : 30;
	return live_change_run(&o);
}

static int cmd_help(const struct cmd *c, int argc, char **argv);

static const struct cmd cmds[] = {
	{ "run", "[-c CONF] [--pin-dir DIR] [-v]",
	  "Load the lists, attach to the config's interfaces and guard until SIGTERM. SIGHUP or a\n"
	  "change of the config or a list file reloads without a gap; a failed reload keeps the\n"
	  "running policy.",
	  cmd_run },
	{ "status", "[--pin-dir DIR] [--json]",
	  "What a running guard is attached to. Exit 0 running, 1 not running.", cmd_status },
	{ "stats", "[--pin-dir DIR] [--json]",
	  "Counters of a running guard: packets and bytes by verdict and reason, hits per list.",
	  cmd_stats },
	{ "check",
	  "[-c CONF] NAME|IP [--client IP] [--at YYYY-MM-DDTHH:MM] [--live] [--pin-dir DIR] [--json]",
	  "The decision for NAME or IP under CONF (block, allow or pass) and the entry that made it.\n"
	  "--live answers from the maps of the running guard instead (what is in force now; for a\n"
	  "name the entry is the suffix that matched, an address names its list only); so does\n"
	  "check without -c and --at while a guard is pinned at the pin directory.",
	  cmd_check },
	{ "add", "NAME|CIDR... --list L [-c CONF] [--pin-dir DIR] [--timeout SEC]",
	  "Add entries to list L now: saved in STATE_DIR/changes/L.txt (state_dir of the config:\n"
	  "the running guard's own unless -c), then the running guard reloads; waits (30 s, or\n"
	  "--timeout) until its maps show them. Kept across restarts. With no guard running the\n"
	  "change is saved for the next start. Exit 1 if the guard did not load it in time.",
	  cmd_change },
	{ "del", "NAME|CIDR... --list L [-c CONF] [--pin-dir DIR] [--timeout SEC]",
	  "Take entries out of list L now, as add does: an entry added with `add` is removed, an\n"
	  "entry of the list's file is skipped from now on (the file is not edited). Exit 1 when\n"
	  "an entry is in neither.",
	  cmd_change },
	{ "replay", "[-c CONF] FILE.pcap [--client-side CIDR] [--at YYYY-MM-DDTHH:MM]",
	  "Every frame of FILE.pcap through the real BPF program: frame, verdict, reason, match.",
	  cmd_replay },
	{ "lint", "FILE...",
	  "Parse registry files; print each problem as file:line: message, then a count line.\n"
	  "Exit 1 when problems were found.",
	  cmd_lint },
	{ "bench", "[--json] [--quick] [--v4 N] [--v6 N] [--case NAME[,NAME...]]",
	  "Nanoseconds per packet for the standard packet mix, beside a minimal XDP program\n"
	  "measured in the same run; load time and kernel memory. --case measures only the\n"
	  "named cases (and the minimal program): for a profiler.",
	  cmd_bench },
	{ "help", "[COMMAND]", "This help, or a command's.", cmd_help },
};

static void print_usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: bpfguard [-v] COMMAND [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < (unsigned int)ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(f,
		"\nThe pin directory defaults to %s (or $BPFGUARD_PIN_DIR); the config to %s.\n"
		"`bpfguard help COMMAND` for more.\n",
		PIN_DIR, DEFAULT_CONFIG);
}

static int cmd_help(const struct cmd *c, int argc, char **argv)
{
	unsigned int i;

	(void)c;
	if (argc < 2) {
		print_usage(stdout);
		return 0;
	}
	for (i = 0; i < (unsigned int)ARRAY_SIZE(cmds); i++) {
		if (!strcmp(cmds[i].name, argv[1])) {
			printf("usage: bpfguard %s %s\n\n%s\n", cmds[i].name, cmds[i].usage,
			       cmds[i].help);
			return 0;
		}
	}
	fprintf(stderr, "bpfguard: no command '%s'\n", argv[1]);
	print_usage(stderr);
	return 2;
}

int cli_main(int argc, char **argv)
{
	unsigned int i;

	log_hook_libbpf();
	/* global -v before the command */
	while (argc > 1 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		log_set_level(log_get_level() + 1);
		argv++;
		argc--;
	}
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(&cmds[ARRAY_SIZE(cmds) - 1], 1, argv);
	for (i = 0; i < (unsigned int)ARRAY_SIZE(cmds); i++) {
		if (!strcmp(cmds[i].name, argv[1])) {
			int j;

			/* -h anywhere: the command's help */
			for (j = 2; j < argc; j++) {
				if (!strcmp(argv[j], "-h") || !strcmp(argv[j], "--help")) {
					char *hargv[] = { "help", argv[1], NULL };

					return cmd_help(&cmds[i], 2, hargv);
				}
			}
			return cmds[i].fn(&cmds[i], argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "bpfguard: unknown command '%s'\n", argv[1]);
	print_usage(stderr);
	return 2;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The INI config of DESIGN.md: [guard], [list NAME], [schedule NAME], [group NAME].
 * config_load() refuses the whole file on any error (unknown section or key, bad value,
 * duplicate name, missing required key), reporting each as file:line through the diag, so a
 * running guard never applies half a config.
 */
#ifndef BPFGUARD_CONFIG_H
#define BPFGUARD_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include "maps/abi.h"
#include "maps/policy.h"
#include "user/log.h"
#include "user/util.h"

#define CFG_MAX_IFACES 8

enum xdp_mode_cfg { XDP_MODE_AUTO = 0, XDP_MODE_NATIVE, XDP_MODE_GENERIC };
enum dns_action_cfg { DNS_ACT_DROP = 0, DNS_ACT_NXDOMAIN, DNS_ACT_REFUSED, DNS_ACT_SINKHOLE };
enum tcp_action_cfg { TCP_ACT_DROP = 0, TCP_ACT_RESET };
/* `unexamined`: what becomes of a name the guard cannot examine (too long, cut, malformed) */
enum unexamined_cfg { UNEXAMINED_PASS = 0, UNEXAMINED_BLOCK };
/* Which address of a packet a list is matched against. */
enum list_dir_cfg { LIST_DIR_DST = 1, LIST_DIR_SRC = 2, LIST_DIR_BOTH = 3 };
/* Domain entries: a listed name covers its subtree, or only itself. */
enum list_match_cfg { LIST_MATCH_SUBTREE = 0, LIST_MATCH_EXACT };

struct cfg_list {
	char name[LIST_NAME_LEN];
	char *path; /* absolute, or resolved against the config file's directory; NULL if url */
	char *url; /* NULL if path */
	char category[CATEGORY_NAME_LEN];
	int category_id; /* index into guard_config.categories */
	int action; /* enum list_action */
	int direction; /* enum list_dir_cfg, default LIST_DIR_DST */
	int match; /* enum list_match_cfg */
	int line; /* line of the [list] header */
	/* url = lists only (see fetch.h); refused beside path =. */
	char sha256[65]; /* `sha256 =`: pinned SHA-256 of the download, lower-case hex; "" none */
	unsigned int refresh; /* `refresh =`: seconds between fetches */
	unsigned long long max_size; /* `max_size =`: bytes a download may have */
	unsigned int timeout; /* `timeout =`: seconds one whole download may take */
};

#define CFG_REFRESH_DEFAULT (6 * 3600)
#define CFG_REFRESH_MIN 60
#define CFG_REFRESH_MAX (30 * 86400)
#define CFG_MAX_SIZE_DEFAULT (200ULL << 20)
#define CFG_MAX_SIZE_MAX (16ULL << 30)
#define CFG_TIMEOUT_DEFAULT 60
#define CFG_TIMEOUT_MAX 3600

#define CFG_MAX_WINDOWS 16
struct cfg_window {
	__u8 days; /* bit 0 = Monday ... bit 6 = Sunday */
	__u16 start; /* minutes after midnight */
	__u16 end; /* minutes after midnight; end < start: crosses midnight */
};

struct cfg_schedule {
	char name[LIST_NAME_LEN];
	char timezone[64]; /* empty: the machine's local time zone */
	struct cfg_window windows[CFG_MAX_WINDOWS];
	int n_windows;
	int line;
};

#define CFG_MAX_GROUP_CLIENTS 64
#define CFG_MAX_GROUP_RULES GUARD_MAX_CATEGORIES
struct cfg_group_rule {
	int category_id;
	int schedule; /* index into schedules, -1: always */
};

struct cfg_group {
	char name[LIST_NAME_LEN];
	struct ip_prefix clients[CFG_MAX_GROUP_CLIENTS];
	int n_clients;
	__u8 macs[CFG_MAX_GROUP_CLIENTS][6];
	int n_macs;
	struct cfg_group_rule block[CFG_MAX_GROUP_RULES];
	int n_block;
	struct cfg_group_rule allow[CFG_MAX_GROUP_RULES];
	int n_allow;
	int line;
};

struct guard_config {
	char *path; /* as given */
	char *dir; /* directory of the config file, for relative list paths */
	char ifaces[CFG_MAX_IFACES][IF_NAMESIZE]; /* `interfaces`: XDP ingress */
	int n_ifaces;
	char tc_ingress[CFG_MAX_IFACES][IF_NAMESIZE]; /* `tc_ingress`: TC ingress through clsact */
	int n_tc_ingress;
	char tc_egress[CFG_MAX_IFACES][IF_NAMESIZE]; /* `tc_egress`: TC egress through clsact */
	int n_tc_egress;
	int xdp_mode; /* enum xdp_mode_cfg */
	int dns_action; /* enum dns_action_cfg */
	int tcp_action; /* enum tcp_action_cfg */
	int unexamined; /* enum unexamined_cfg, default pass */
	struct ip_prefix sinkhole4, sinkhole6; /* plen 0 family 0: unset */
	unsigned int block_ttl; /* seconds, default 10 */
	char metrics[64]; /* "host:port", empty: no metrics endpoint */
	char state_dir[256]; /* default /var/lib/bpfguard */

	struct cfg_list lists[GUARD_MAX_LISTS];
	int n_lists;
	/* Category names in order of first use by a [list]; the id is the index. */
	char categories[GUARD_MAX_CATEGORIES][CATEGORY_NAME_LEN];
	int n_categories;
	struct cfg_schedule *schedules;
	int n_schedules;
	struct cfg_group *groups;
	int n_groups;
};

/*
 * Parse the config at path. Returns 0 and *out (free with config_free), or -EINVAL after
 * reporting every problem through d, or -errno if the file cannot be read (also reported).
 */
int config_load(const char *path, struct diag *d, struct guard_config **out);
/* The same from a buffer; name is used in messages, dir resolves relative paths. */
int config_parse(const char *name, const char *dir, const char *buf, size_t len, struct diag *d,
		 struct guard_config **out);
void config_free(struct guard_config *cfg);

/* Category id by name, or -1. */
int config_category(const struct guard_config *cfg, const char *name);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* Reading and printing counters: see stats.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "user/attach.h"
#include "user/log.h"
#include "user/stats.h"

/* Sum a per-CPU struct guard_count at key. */
static int read_percpu(int fd, __u32 key, int ncpu, struct guard_count *out)
{
	struct guard_count *v = calloc(ncpu, sizeof(*v));
	int i, err = 0;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &key, v)) {
		err = -errno;
		goto cleanup;
	}
	for (i = 0; i < ncpu; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
	}
cleanup:
	free(v);
	return err;
}

int stats_read_fds(int counters_fd, int list_hits_fd, int list_meta_fd, __u32 n_lists,
		   struct guard_stats *st)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 i;
	int err;

	memset(st, 0, sizeof(*st));
	if (ncpu < 0)
		return ncpu;
	for (i = 0; counters_fd >= 0 && i < GC_COUNTER_MAX; i++) {
		err = read_percpu(counters_fd, i, ncpu, &st->counters[i]);
		if (err)
			return err;
	}
	for (i = 0; list_meta_fd >= 0 && i < n_lists && i < GUARD_MAX_LISTS; i++) {
		if (bpf_map_lookup_elem(list_meta_fd, &i, &st->lists[i]))
			return -errno;
		if (!st->lists[i].name[0])
			break;
		st->n_lists = i + 1;
		if (list_hits_fd >= 0) {
			err = read_percpu(list_hits_fd, i, ncpu, &st->list_hits[i]);
			if (err)
				return err;
		}
	}
	return 0;
}

int stats_read_pinned(const char *pin_dir, struct guard_stats *st)
{
	char path[512];
	int cfd = -1, hfd = -1, mfd = -1, err;

	cfd = bpf_obj_get(pin_path(path, sizeof(path), pin_dir, GUARD_STR(MAP_COUNTERS)));
	if (cfd < 0) {
		err = -errno;
		if (err == -ENOENT)
			pr_warn("no guard is running: nothing pinned at %s (start one with `bpfguard "
				"run -c CONF`, or give --pin-dir)\n",
				pin_dir);
		else
			pr_warn("cannot open %s: %s%s\n", path, strerror(-err),
				err == -EPERM || err == -EACCES ? " (needs root)" : "");
		return err;
	}
	hfd = bpf_obj_get(pin_path(path, sizeof(path), pin_dir, GUARD_STR(MAP_LIST_HITS)));
	mfd = bpf_obj_get(pin_path(path, sizeof(path), pin_dir, GUARD_STR(MAP_LIST_META)));
	err = stats_read_fds(cfd, hfd, mfd, GUARD_MAX_LISTS, st);
	if (err)
		pr_warn("cannot read the counters: %s\n", strerror(-err));
	close(cfd);
	if (hfd >= 0)
		close(hfd);
	if (mfd >= 0)
		close(mfd);
	return err;
}

static const char *action_name(__u32 a)
{
	return a == LIST_ALLOW ? "allow" : "block";
}

void stats_print_text(FILE *f, const struct guard_stats *st)
{
	__u32 i;

	fprintf(f, "%-28s %14s %16s\n", "counter", "packets", "bytes");
	for (i = 0; i < GC_COUNTER_MAX; i++) {
		if (i == GC_VERDICT_MAX)
			fprintf(f, "%-28s\n", "-- notes (a packet may count in several) --");
		fprintf(f, "%-28s %14llu %16llu\n", guard_counter_info[i].name,
			(unsigned long long)st->counters[i].packets,
			(unsigned long long)st->counters[i].bytes);
	}
	if (!st->n_lists)
		return;
	fprintf(f, "\n%-24s %-16s %-6s %10s %14s %16s\n", "list", "category", "action", "entries",
		"hits", "bytes");
	for (i = 0; i < st->n_lists; i++)
		fprintf(f, "%-24s %-16s %-6s %10u %14llu %16llu\n", st->lists[i].name,
			st->lists[i].category, action_name(st->lists[i].action),
			st->lists[i].entries, (unsigned long long)st->list_hits[i].packets,
			(unsigned long long)st->list_hits[i].bytes);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void stats_print_json(FILE *f, const struct guard_stats *st)
{
	__u32 i;

	fprintf(f, "{\"counters\": {");
	for (i = 0; i < GC_COUNTER_MAX; i++)
		fprintf(f, "%s\"%s\": {\"packets\": %llu, \"bytes\": %llu}", i ? ", " : "",
			guard_counter_info[i].name, (unsigned long long)st->counters[i].packets,
			(unsigned long long)st->counters[i].bytes);
	fprintf(f, "}, \"lists\": [");
	for (i = 0; i < st->n_lists; i++) {
		fprintf(f, "%s{\"id\": %u, \"name\": ", i ? ", " : "", i);
		json_string(f, st->lists[i].name);
		fprintf(f, ", \"category\": ");
		json_string(f, st->lists[i].category);
		fprintf(f,
			", \"action\": \"%s\", \"entries\": %u, \"packets\": %llu, \"bytes\": %llu}",
			action_name(st->lists[i].action), st->lists[i].entries,
			(unsigned long long)st->list_hits[i].packets,
			(unsigned long long)st->list_hits[i].bytes);
	}
	fprintf(f, "]}\n");
}

void stats_print_prometheus(FILE *f, const struct guard_stats *st)
{
	__u32 i;

	fprintf(f, "# HELP bpfguard_packets_total Packets by verdict counter or note.\n"
		   "# TYPE bpfguard_packets_total counter\n");
	for (i = 0; i < GC_COUNTER_MAX; i++)
		fprintf(f, "bpfguard_packets_total{counter=\"%s\"} %llu\n",
			guard_counter_info[i].name, (unsigned long long)st->counters[i].packets);
	fprintf(f, "# HELP bpfguard_bytes_total Bytes by verdict counter or note.\n"
		   "# TYPE bpfguard_bytes_total counter\n");
	for (i = 0; i < GC_COUNTER_MAX; i++)
		fprintf(f, "bpfguard_bytes_total{counter=\"%s\"} %llu\n",
			guard_counter_info[i].name, (unsigned long long)st->counters[i].bytes);
	fprintf(f, "# HELP bpfguard_list_hits_total Packets decided by an entry of the list.\n"
		   "# TYPE bpfguard_list_hits_total counter\n");
	for (i = 0; i < st->n_lists; i++)
		fprintf(f,
			"bpfguard_list_hits_total{list=\"%s\",category=\"%s\",action=\"%s\"} %llu\n",
			st->lists[i].name, st->lists[i].category, action_name(st->lists[i].action),
			(unsigned long long)st->list_hits[i].packets);
	fprintf(f, "# HELP bpfguard_list_entries Entries loaded from the list.\n"
		   "# TYPE bpfguard_list_entries gauge\n");
	for (i = 0; i < st->n_lists; i++)
		fprintf(f, "bpfguard_list_entries{list=\"%s\"} %u\n", st->lists[i].name,
			st->lists[i].entries);
}

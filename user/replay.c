// SPDX-License-Identifier: GPL-2.0-only
/*
 * `replay` (see replay.h): a capture's frames, in order, through one loaded guard_xdp with
 * BPF_PROG_TEST_RUN. The verdict is the program's return code; the reason is what the program
 * recorded in its per-CPU trace map (cfg_trace on); the entry is named on the host from the
 * same tables (iptable_lookup is the twin of bpf/lib/iprule.h) and the same parser
 * (bpf/lib/parse.h builds on the host too), so nothing here re-decides what the kernel decided.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/lib/parse.h"
#include "user/check.h"
#include "user/loader.h"
#include "user/log.h"
#include "user/pcap.h"
#include "user/replay.h"

/* Marks a per-CPU trace slot that no run has written since it was reset. */
#define TRACE_UNSET 0xffffffffu
/* Room for the program to grow a frame (an answer) beyond the largest capture. */
#define REPLAY_OUT_LEN (PCAP_MAX_FRAME + 4096)
/* Beyond this, a test run failure is most likely the frame's size (see run_frame). */
#define REPLAY_LARGE_FRAME 65535

int replay_opts_parse(struct replay_opts *o)
{
	char *list = NULL, *tok, *save = NULL;
	long long at;
	int err = 0;

	o->has_at = false;
	o->n_clients = 0;
	if (o->at) {
		if (parse_at(o->at, &at)) {
			pr_warn("--at '%s': expected local time as YYYY-MM-DDTHH:MM (e.g. "
				"2026-09-01T10:30)\n",
				o->at);
			return -EINVAL;
		}
		o->has_at = true;
		o->at_time = (time_t)at;
	}
	if (o->client_side) {
		list = strdup(o->client_side);
		if (!list)
			return -ENOMEM;
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const char *why;

			tok = str_trim(tok);
			if (o->n_clients == REPLAY_MAX_CLIENT_SIDE) {
				pr_warn("--client-side: more than %d prefixes; name fewer, wider "
					"prefixes\n",
					REPLAY_MAX_CLIENT_SIDE);
				err = -EINVAL;
				goto cleanup;
			}
			if (ip_prefix_parse(tok, &o->clients[o->n_clients], false, &why)) {
				pr_warn("--client-side '%s': %s (expected IP or IP/CIDR, "
					"comma-separated, e.g. 192.0.2.0/24,2001:db8:1::/64)\n",
					tok, why);
				err = -EINVAL;
				goto cleanup;
			}
			o->n_clients++;
		}
		if (!o->n_clients) {
			pr_warn("--client-side '%s': no prefix given (expected IP or IP/CIDR, e.g. "
				"192.0.2.0/24)\n",
				o->client_side);
			err = -EINVAL;
			goto cleanup;
		}
	}
	o->parsed = true;
cleanup:
	free(list);
	return err;
}

static const char *verdict_name(__u32 retval)
{
	switch (retval) {
	case XDP_PASS:
		return "pass";
	case XDP_DROP:
		return "drop";
	case XDP_TX:
		return "answer";
	default:
		return NULL;
	}
}

static __u32 verdict_of(__u32 retval)
{
	return retval == XDP_DROP ? GV_DROP : retval == XDP_TX ? GV_ANSWER : GV_PASS;
}

/*
 * The entry that decided, as "LIST:ENTRY" in buf: the frame's addresses parsed on the host,
 * the direction whose lookup gives the leaf the program recorded, that direction's most
 * specific prefix. "-" when no entry decided.
 */
static const char *match_of(const struct guard_policy *pol, const struct guard_trace *t,
			    const struct pcap_frame *f, char *buf, size_t len)
{
	struct parse_result r = { 0 };
	const struct ipt_prefix *p = NULL;
	const char *list = "?";
	char entry[64] = "?";
	int dir = IPT_DIR_DST;

	if (t->leaf_id == IPT_LEAF_NONE)
		return "-";
	if (t->list_id < pol->n_lists)
		list = pol->lists[t->list_id].name;
	parse_packet(f->data, f->data + f->caplen, 0, &r);
	if (r.family == 4 || r.family == 6) {
		if (t->counter == GC_DROP_IP_SRC ||
		    (iptable_lookup(&pol->ipt, r.family, IPT_DIR_DST, r.daddr) != t->leaf_id &&
		     pol->ipt.has_src &&
		     iptable_lookup(&pol->ipt, r.family, IPT_DIR_SRC, r.saddr) == t->leaf_id))
			dir = IPT_DIR_SRC;
		p = iptable_match(&pol->ipt, r.family, dir, dir == IPT_DIR_SRC ? r.saddr : r.daddr);
	}
	if (p)
		ip_prefix_format(&p->prefix, entry, sizeof(entry));
	else
		pr_warn("frame %llu: the program matched leaf %u, but no entry of the policy "
			"covers the frame's addresses on the host: tables and program disagree\n",
			(unsigned long long)f->index, t->leaf_id);
	snprintf(buf, len, "%s:%s", list, entry);
	return buf;
}

struct replay_run_state {
	int prog_fd, trace_fd, scratch_fd, ncpu;
	int cpu; /* the CPU the last run recorded its decision on */
	struct name_scratch *scratch; /* ncpu slots of the name stage's scratch, read back */
	struct guard_trace *unset; /* ncpu slots of TRACE_UNSET */
	struct guard_trace *seen; /* ncpu slots read back */
	__u8 *out; /* data_out */
};

/*
 * Run one frame; *t gets the trace the run wrote and *retval the XDP code. Returns 0 or
 * -errno after pr_warn.
 */
static int run_frame(struct replay_run_state *s, const struct pcap_frame *f, struct guard_trace *t,
		     __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, ta, .data_in = f->data, .data_size_in = f->caplen,
		    .data_out = s->out, .data_size_out = REPLAY_OUT_LEN, .repeat = 1);
	__u32 zero = 0;
	int i, found = -1, err;

	/* Every CPU's slot reset, so the one the run writes is the one that changed. */
	if (bpf_map_update_elem(s->trace_fd, &zero, s->unset, BPF_ANY)) {
		err = -errno;
		pr_warn("cannot reset the trace map: %s\n", strerror(-err));
		return err;
	}
	if (bpf_prog_test_run_opts(s->prog_fd, &ta)) {
		err = -errno;
		if (err == -EPERM)
			pr_warn("BPF_PROG_TEST_RUN: permission denied (needs root or "
				"CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)\n");
		else if (f->caplen > REPLAY_LARGE_FRAME)
			pr_warn("frame %llu (%u bytes): BPF_PROG_TEST_RUN failed: %s: the kernel "
				"takes XDP frames of at most about 73 KB (a page and 17 fragments), "
				"and no driver passes a larger one to XDP; this capture holds "
				"offload super-frames: capture with offloads off (ethtool -K IF gro "
				"off tso off gso off) or cut them to 64 KB (editcap -s 65535 IN OUT)\n",
				(unsigned long long)f->index, f->caplen, strerror(-err));
		else
			pr_warn("frame %llu (%u bytes): BPF_PROG_TEST_RUN failed: %s\n",
				(unsigned long long)f->index, f->caplen, strerror(-err));
		return err;
	}
	if (bpf_map_lookup_elem(s->trace_fd, &zero, s->seen)) {
		err = -errno;
		pr_warn("cannot read the trace map: %s\n", strerror(-err));
		return err;
	}
	for (i = 0; i < s->ncpu; i++) {
		if (s->seen[i].counter == TRACE_UNSET)
			continue;
		if (found >= 0) {
			pr_warn("frame %llu: two CPUs (%d, %d) recorded a decision for one run\n",
				(unsigned long long)f->index, found, i);
			return -EIO;
		}
		found = i;
	}
	if (found < 0) {
		pr_warn("frame %llu: the program recorded no decision (is the trace knob "
			"cfg_trace honoured by this build of bpf/guard.bpf.c?)\n",
			(unsigned long long)f->index);
		return -EIO;
	}
	*t = s->seen[found];
	*retval = ta.retval;
	s->cpu = found;
	return 0;
}

/*
 * A frame shorter than an Ethernet header: BPF_PROG_TEST_RUN refuses it (and no driver hands
 * one to XDP). The same parser, on the host, gives the verdict the program would reach.
 */
static void judge_runt(const struct pcap_frame *f, struct guard_trace *t, __u32 *retval)
{
	struct parse_result r = { 0 };
	int ret = parse_packet(f->data, f->data + f->caplen, 0, &r);

	memset(t, 0, sizeof(*t));
	t->counter = ret < 0 ? (__u32)-ret : GC_PASS_TRUNCATED;
	t->verdict = GV_PASS;
	*retval = XDP_PASS;
	pr_warn("frame %llu: %u bytes, shorter than an Ethernet header: BPF_PROG_TEST_RUN cannot "
		"run it (nor would a driver pass it to XDP); judged by the program's parser on the "
		"host: %s\n",
		(unsigned long long)f->index, f->caplen, guard_counter_info[t->counter].name);
}

/*
 * A domain match, as "LIST:ENTRY": the name the program examined is still in its per-CPU
 * scratch (struct name_buf: b[0] is a leading dot, dot[i] the dot before label i); the suffix
 * that matched starts at label match_label, and the policy's record of that suffix names it.
 */
static const char *domain_match_of(const struct guard_policy *pol, struct replay_run_state *s,
				   const struct guard_trace *t, char *buf, size_t len)
{
	const char *list = t->list_id < pol->n_lists ? pol->lists[t->list_id].name : "?";
	const struct name_buf *nb;
	const struct dom_rec *r = NULL;
	char suffix[DH_MAX_NAME + 1];
	__u32 zero = 0, start;

	if (s->scratch_fd >= 0 && !bpf_map_lookup_elem(s->scratch_fd, &zero, s->scratch)) {
		nb = &s->scratch[s->cpu].nb;
		start = (__u32)nb->dot[t->match_label & NAME_MAX_LABELS] + 1;
		if (nb->len <= DH_MAX_NAME && start <= (__u32)nb->len) {
			memcpy(suffix, nb->b + start, nb->len + 1 - start);
			suffix[nb->len + 1 - start] = '\0';
			r = domtable_find(&pol->dom, suffix, t->flags & TRACE_F_EXACT);
		}
	}
	if (!r) {
		snprintf(buf, len, "%s:?", list);
		return buf;
	}
	snprintf(buf, len, "%s:%s%s", list, r->flags & DOMT_F_EXACT ? "full:" : "",
		 domtable_name(&pol->dom, r));
	return buf;
}

int replay_policy(const struct guard_policy *pol, const char *pcap_path,
		  const struct replay_opts *o, FILE *out, unsigned long *frames_done)
{
	struct loader_opts lo = LOADER_OPTS_INIT;
	struct replay_run_state s = { .prog_fd = -1, .scratch_fd = -1 };
	struct pcap_reader *pr = NULL;
	char errbuf[PCAP_ERRBUF_LEN];
	struct guard *skel = NULL;
	struct pcap_frame f;
	int i, ret, err;

	/* --client-side only validates: the program finds each frame's group from its sender */
	(void)o;
	*frames_done = 0;
	lo.trace = true;
	err = pcap_reader_open(pcap_path, &pr, errbuf);
	if (err) {
		pr_warn("%s\n", errbuf);
		return err;
	}
	s.ncpu = libbpf_num_possible_cpus();
	if (s.ncpu < 0) {
		err = s.ncpu;
		pr_warn("cannot count the possible CPUs: %s\n", strerror(-err));
		goto cleanup;
	}
	s.unset = calloc(s.ncpu, sizeof(*s.unset));
	s.seen = calloc(s.ncpu, sizeof(*s.seen));
	s.scratch = calloc(s.ncpu, sizeof(*s.scratch));
	s.out = malloc(REPLAY_OUT_LEN);
	if (!s.unset || !s.seen || !s.scratch || !s.out) {
		err = -ENOMEM;
		pr_warn("out of memory\n");
		goto cleanup;
	}
	for (i = 0; i < s.ncpu; i++)
		s.unset[i].counter = TRACE_UNSET;
	err = loader_load(pol, &lo, &skel);
	if (err)
		goto cleanup;
	s.prog_fd = bpf_program__fd(skel->progs.guard_xdp);
	s.trace_fd = bpf_map__fd(skel->maps.MAP_TRACE);
	s.scratch_fd = bpf_map__fd(skel->maps.MAP_NAME_SCRATCH);

	while ((ret = pcap_reader_next(pr, &f)) == 1) {
		struct guard_trace t = { 0 };
		const char *verdict;
		char match[LIST_NAME_LEN + DH_MAX_NAME + 16];
		__u32 retval = XDP_PASS;

		if (f.caplen < ETH_HLEN) {
			judge_runt(&f, &t, &retval);
		} else {
			err = run_frame(&s, &f, &t, &retval);
			if (err)
				goto cleanup;
		}
		verdict = verdict_name(retval);
		if (!verdict) {
			pr_warn("frame %llu: the program returned %u, not XDP_PASS, XDP_DROP or "
				"XDP_TX: a bug in bpf/guard.bpf.c\n",
				(unsigned long long)f.index, retval);
			err = -EPROTO;
			goto cleanup;
		}
		if (t.counter >= GC_VERDICT_MAX) {
			pr_warn("frame %llu: the trace names counter %u, not a verdict counter: a "
				"bug in bpf/guard.bpf.c\n",
				(unsigned long long)f.index, t.counter);
			err = -EPROTO;
			goto cleanup;
		}
		if (t.verdict != verdict_of(retval))
			pr_warn("frame %llu: the trace says verdict %u but the program returned %u "
				"(%s): trusting the return code\n",
				(unsigned long long)f.index, t.verdict, retval, verdict);
		fprintf(out, "%llu\t%s\t%s\t%s\n", (unsigned long long)f.index, verdict,
			guard_counter_info[t.counter].name,
			t.flags & TRACE_F_DOMAIN ?
				domain_match_of(pol, &s, &t, match, sizeof(match)) :
				match_of(pol, &t, &f, match, sizeof(match)));
		(*frames_done)++;
	}
	if (ret < 0) {
		pr_warn("%s\n", pcap_reader_error(pr));
		pr_warn("%lu frames were replayed before the error; the rest of the file cannot be "
			"read\n",
			*frames_done);
		err = -EBADMSG;
	}
cleanup:
	fflush(out);
	guard__destroy(skel);
	pcap_reader_close(pr);
	free(s.unset);
	free(s.seen);
	free(s.scratch);
	free(s.out);
	return err;
}

int replay_run(const char *config_path, const char *pcap_path, const struct replay_opts *o)
{
	struct replay_opts opts = { 0 };
	struct guard_config *cfg = NULL;
	struct guard_policy *pol = NULL;
	struct diag diag = { .max_print = 20 };
	unsigned long frames = 0;
	int ret = 2, err;

	if (o)
		opts = *o;
	if (!opts.parsed && replay_opts_parse(&opts))
		return 2;
	if (config_load(config_path, &diag, &cfg))
		goto cleanup;
	if (policy_build(cfg, &diag, &pol))
		goto cleanup;
	if (opts.has_at) {
		/* the policy holds the masks of now: those of --at instead */
		err = policy_masks_at(pol, cfg, opts.at_time, NULL);
		if (err) {
			pr_warn("--at '%s': cannot evaluate the schedules: %s\n", opts.at,
				strerror(-err));
			goto cleanup;
		}
	}
	err = replay_policy(pol, pcap_path, &opts, stdout, &frames);
	if (!err)
		ret = 0;
	else if (err == -EBADMSG)
		ret = 1;
cleanup:
	policy_free(pol);
	config_free(cfg);
	return ret;
}

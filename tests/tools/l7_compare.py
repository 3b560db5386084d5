#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# The comparisons of tests/e2e/test_names_tshark.sh, one command each. Every command prints
# result lines for the shell to turn into TAP:
#   PASS<TAB>description
#   FAIL<TAB>description
#   #<TAB>diagnostic (belongs to the result line before it)
#
#   l7_compare.py ours   EXPECTED FILE OURS
#       extract_names -a -e output (OURS) of FILE against the "ours" column of EXPECTED
#       (tests/data/l7/gen_pcaps.py): one result per case.
#   l7_compare.py diff   EXPECTED|- FILE OURS TSHARK
#       the differential: every name tshark finds in a frame (TSHARK: the fields below) is the
#       name extract_names finds, and the reverse; one result per kind of name (dns, sni, http)
#       present in either. EXPECTED gives the frames where a difference is expected and why
#       ("-": none, for captures of real programs).
#   l7_compare.py replay EXPECTED FILE REPLAY MODE
#       `bpfguard replay` output against the expectations under MODE (nxdomain: as written;
#       refused, sinkhole, drop: derived): one result per case in nxdomain mode, one per file
#       otherwise; and one for the match column.
#   l7_compare.py real   FILE OURS REPLAY
#       replay of a capture of real programs (config of test_names_tshark.sh, nxdomain/reset):
#       a frame where extract_names found a name under blocked.test is answered (DNS over UDP)
#       or reset (TCP), one under ok.blocked.test passes as pass_domain_allow; a frame it saw as a ClientHello segment
#       before the SNI passes as pass_tls_pending; every other frame passes as pass_nomatch.
#
# TSHARK is `tshark -r FILE -n -d tcp.port==8443,tls -T fields -E separator=/t -E occurrence=a
# -E aggregator=, -e frame.number -e tcp.stream -e dns.flags.response -e dns.qry.name
# -e tls.handshake.extensions_server_name -e http.request -e http.host -e http.request.uri`.
#
# How tshark's names are brought to the guard's form (the differences are by design):
#   - every name is lower-cased (the guard matches case-insensitively and lower-cases);
#   - DNS: responses are left out (the guard judges queries only); "<Root>" is the empty name;
#   - TLS and HTTP: tshark reports a ClientHello or request split over segments on the segment
#     that completes the TLS record or the request's headers; the guard decides on the segment
#     that completes the SNI (a request's first segment), which is that one or an earlier one
#     of the same TCP stream: SNIs and hosts are compared per stream, in order, and the
#     guard's frame must not come after tshark's;
#   - HTTP: only requests; the host of an absolute-form target (http://host/...) wins over the
#     Host header, as RFC 9112 section 3.2.2 says and the guard does (tshark's http.host is the
#     header only); the port is removed (http.host keeps it); a trailing dot is removed; a host
#     that is an IP literal in brackets is left out (the guard looks up names, not addresses).

import re
import sys
from collections import OrderedDict, defaultdict


def out(ok, desc, diags=()):
    print(("PASS" if ok else "FAIL") + "\t" + desc)
    for d in diags:
        print("#\t" + d)


# Cases the kernel is known not to handle yet (README "Known gaps", XXX in bpf/lib/names.h):
# reported as skipped with the reason, left out of the aggregate checks, never hidden.
KNOWN_GAPS = {}


def skip(desc, why):
    print("SKIP\t" + desc + "\t" + why)


def read_expected(path, fname):
    """The manifest rows of one file, in frame order."""
    rows = []
    if path == "-":
        return rows
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) != 9:
                sys.exit(f"{path}: bad line (want 9 columns): {line!r}")
            if c[0] != fname:
                continue
            rows.append({"frame": int(c[1]), "case": c[2], "ours": c[3], "exempt": c[4],
                         "verdict": c[5], "reason": c[6], "match": c[7], "qtype": c[8]})
    return rows


def read_ours(path):
    """extract_names -a -e lines: {frame: "source:name[@flag]"} (one per frame)."""
    ours = {}
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < 3:
                sys.exit(f"{path}: bad extract_names line: {line!r}")
            v = f"{c[1]}:{c[2]}" + (f"@{c[3]}" if len(c) > 3 else "")
            fr = int(c[0])
            if fr in ours:
                sys.exit(f"{path}: frame {fr} printed twice")
            ours[fr] = v
    return ours


def cmd_ours(expected, fname, ours_path):
    rows = read_expected(expected, fname)
    ours = read_ours(ours_path)
    if not rows:
        out(False, f"{fname}: expectations", [f"no rows for {fname} in {expected}"])
        return
    cases = OrderedDict()
    for r in rows:
        cases.setdefault(r["case"].split(" (")[0].split(": ")[0], []).append(r)
    for case, rs in cases.items():
        bad = []
        if case in KNOWN_GAPS:
            if mode == "nxdomain":
                skip(f"{fname} [{mode}]: replay: {case}", KNOWN_GAPS[case])
            continue
        for r in rs:
            got = ours.pop(r["frame"], "-")
            if got != r["ours"]:
                bad.append(f"frame {r['frame']} ({r['case']}): expected {r['ours']!r}, "
                           f"extract_names printed {got!r}")
        out(not bad, f"{fname}: extract_names: {case}", bad)
    if ours:
        out(False, f"{fname}: extract_names prints nothing for frames without expectations",
            [f"frame {k}: {v!r}" for k, v in sorted(ours.items())])


def split_multi(v):
    return [x for x in v.split(",")] if v else []


def http_host(is_req, host, uri):
    """tshark's HTTP fields to the name the guard looks up, or None."""
    if is_req not in ("1", "True"):
        return None
    m = re.match(r"(?i)^https?://([^/?#]+)", uri or "")
    h = m.group(1) if m else host
    if not h:
        return None
    if "@" in h:
        h = h.rsplit("@", 1)[1]
    if h.startswith("["):
        return None
    m = re.match(r"^(.*):(\d*)$", h)
    if m:
        h = m.group(1)
    if h.endswith("."):
        h = h[:-1]
    return h.lower()


def read_tshark(path):
    """{frame: {"stream", "dns": [...], "sni": [...], "http": name or None}}"""
    t = {}
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            c += [""] * (8 - len(c))
            fr = int(c[0])
            resp = split_multi(c[2])
            names = split_multi(c[3])
            dns = []
            for i, n in enumerate(names):
                r = resp[i] if i < len(resp) else (resp[0] if resp else "0")
                if r in ("1", "True"):
                    continue
                dns.append("" if n == "<Root>" else n.lower())
            t[fr] = {"stream": c[1], "dns": dns,
                     "sni": [n.lower() for n in split_multi(c[4])],
                     "http": http_host(c[5].split(",")[0], c[6].split(",")[0],
                                       c[7].split(",")[0])}
    return t


def cmd_diff(expected, fname, ours_path, tshark_path):
    exempt = {r["frame"]: r["exempt"] for r in read_expected(expected, fname)
              if r["exempt"] != "-"}
    ours = read_ours(ours_path)
    ts = read_tshark(tshark_path)
    o = {"dns": {}, "http": {}, "sni": []}
    for fr, v in ours.items():
        src, _, name = v.partition(":")
        if name.startswith("!"):
            continue
        name = name.split("@")[0]
        if src in ("dns-udp", "dns-tcp"):
            o["dns"][fr] = [name]
        elif src == "http":
            o["http"][fr] = name
        elif src == "sni":
            o["sni"].append((fr, name))

    def frames_kind(kind, tget, oget):
        agree, bad, exm = 0, [], []
        frames = sorted(set(k for k, v in ts.items() if tget(v)) | set(oget))
        for fr in frames:
            tv = tget(ts.get(fr, {"dns": [], "http": None}))
            ov = oget.get(fr)
            if tv == ov:
                agree += 1
            elif fr in exempt:
                exm.append(f"frame {fr}: tshark {tv!r}, guard {ov!r}: expected ({exempt[fr]})")
            else:
                bad.append(f"frame {fr}: tshark {tv!r}, guard's parser {ov!r}")
        return agree, bad, exm

    agree, bad, exm = frames_kind("dns", lambda v: v["dns"] or None, o["dns"])
    if agree + len(bad) + len(exm):
        out(not bad and agree > 0,
            f"{fname}: dns: the guard's parser and tshark agree on {agree} frames"
            + (f" ({len(exm)} known differences)" if exm else ""), bad + exm)

    # SNI and HTTP: per TCP stream, the guard's frame not after tshark's (tshark reports a
    # reassembled ClientHello or request on the segment that completes it).
    o["http"] = sorted(o["http"].items())
    for kind, what in (("sni", "ClientHellos"), ("http", "requests")):
        tl_all = defaultdict(list)
        for fr, v in sorted(ts.items()):
            names = v["sni"] if kind == "sni" else ([v["http"]] if v["http"] else [])
            for n in names:
                tl_all[v["stream"]].append((fr, n))
        ol_all = defaultdict(list)
        for fr, n in o[kind]:
            ol_all[ts.get(fr, {}).get("stream", f"?frame{fr}")].append((fr, n))
        agree, bad, exm = 0, [], []
        for st in sorted(set(tl_all) | set(ol_all), key=str):
            tl, ol = tl_all.get(st, []), ol_all.get(st, [])
            if [n for _, n in tl] == [n for _, n in ol] and all(
                    of <= tf for (of, _), (tf, _) in zip(ol, tl)):
                agree += len(tl)
                continue
            ex = [exempt[f] for f, _ in tl + ol if f in exempt]
            msg = f"tcp stream {st}: tshark {tl}, guard's parser {ol}"
            (exm if ex else bad).append(msg + (f": expected ({ex[0]})" if ex else ""))
        if agree + len(bad) + len(exm):
            out(not bad and agree > 0,
                f"{fname}: {kind}: the guard's parser and tshark agree on {agree} {what}"
                + (f" ({len(exm)} known differences)" if exm else ""), bad + exm)


def read_replay(path):
    r = {}
    with open(path) as f:
        for i, line in enumerate(f, 1):
            c = line.rstrip("\n").split("\t")
            if len(c) != 4 or c[0] != str(i):
                sys.exit(f"{path}:{i}: not 'N<TAB>verdict<TAB>reason<TAB>match' in frame "
                         f"order: {line!r}")
            r[i] = (c[1], c[2], c[3])
    return r


def derive(row, mode):
    """Expected (verdict, reason) of a row under a dns_action/tcp_action mode."""
    v, reason = row["verdict"], row["reason"]
    if mode == "nxdomain":
        return v, reason
    if reason.startswith("answer_dns_"):
        if mode == "refused":
            return "answer", "answer_dns_refused"
        if mode == "sinkhole":
            if row["qtype"] in ("A", "AAAA"):
                return "answer", "answer_dns_sinkhole"
            return "answer", "answer_dns_nodata"
        if mode == "drop":
            return "drop", "drop_dns"
    if reason.startswith("reset_") and mode in ("drop", "sinkhole"):
        # test_names_tshark.sh pairs sinkhole with tcp_action = drop
        return "drop", "drop_" + reason[len("reset_"):]
    return v, reason


def cmd_replay(expected, fname, replay_path, mode):
    rows = read_expected(expected, fname)
    rep = read_replay(replay_path)
    if len(rep) != len(rows):
        out(False, f"{fname} [{mode}]: replay prints one line per frame",
            [f"{len(rep)} lines for {len(rows)} frames"])
    cases = OrderedDict()
    for r in rows:
        cases.setdefault(r["case"].split(" (")[0].split(": ")[0], []).append(r)
    all_bad, match_bad, matched = [], [], 0
    for case, rs in cases.items():
        bad = []
        if case in KNOWN_GAPS:
            if mode == "nxdomain":
                skip(f"{fname} [{mode}]: replay: {case}", KNOWN_GAPS[case])
            continue
        for r in rs:
            want = derive(r, mode)
            got = rep.get(r["frame"], ("(none)", "(none)", "(none)"))
            if got[:2] != want:
                bad.append(f"frame {r['frame']} ({r['case']}): expected {want[0]} {want[1]}, "
                           f"replay: {got[0]} {got[1]} {got[2]}")
            if r["match"] != "-" or got[2] != "-":
                matched += 1
                if got[2] != r["match"]:
                    match_bad.append(f"frame {r['frame']} ({r['case']}): expected match "
                                     f"{r['match']!r}, replay printed {got[2]!r}")
        if mode == "nxdomain":
            out(not bad, f"{fname} [{mode}]: replay: {case}", bad)
        all_bad += bad
    if mode != "nxdomain":
        out(not all_bad, f"{fname} [{mode}]: replay verdicts of {len(rows)} frames", all_bad)
    else:
        out(not match_bad and matched > 0,
            f"{fname}: replay's match column names the list and domain entry ({matched} frames)",
            match_bad)


def cmd_real(fname, ours_path, replay_path):
    ours = read_ours(ours_path)
    rep = read_replay(replay_path)
    blocked_names, bad = 0, []
    for fr in sorted(rep):
        v = ours.get(fr, "-")
        src, _, name = v.partition(":")
        name = name.split("@")[0]
        want = ("pass", "pass_nomatch")
        if name == "!pass_tls_pending":
            want = ("pass", "pass_tls_pending")
        elif name == "ok.blocked.test" or name.endswith(".ok.blocked.test"):
            want = ("pass", "pass_domain_allow")
        elif name == "blocked.test" or name.endswith(".blocked.test"):
            blocked_names += 1
            want = ("answer", {"dns-udp": "answer_dns_nxdomain", "dns-tcp": "reset_dns_tcp",
                               "sni": "reset_sni", "http": "reset_http"}[src])
        if rep[fr][:2] != want:
            bad.append(f"frame {fr} ({v}): expected {want[0]} {want[1]}, replay: "
                       f"{' '.join(rep[fr])}")
    out(not bad and blocked_names > 0,
        f"{fname}: replay of a real capture: {len(rep)} frames, {blocked_names} blocked names "
        "decided on the frame the guard's parser names", bad)


def main():
    a = sys.argv[1:]
    if a[:1] == ["ours"] and len(a) == 4:
        cmd_ours(*a[1:])
    elif a[:1] == ["diff"] and len(a) == 5:
        cmd_diff(*a[1:])
    elif a[:1] == ["replay"] and len(a) == 5:
        cmd_replay(*a[1:])
    elif a[:1] == ["real"] and len(a) == 4:
        cmd_real(*a[1:])
    else:
        sys.exit("usage: l7_compare.py ours EXPECTED FILE OURS | diff EXPECTED|- FILE OURS "
                 "TSHARK | replay EXPECTED FILE REPLAY MODE | real FILE OURS REPLAY")


if __name__ == "__main__":
    main()

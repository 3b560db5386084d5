#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""DNS over TCP as clients may send it (RFC 7766), for tests/e2e/test_domains.sh.

  dns_tcp_client.py SERVER HOW NAME [NAME...]

Opens one TCP connection to SERVER port 53 (TCP_NODELAY) and sends an A query for each NAME,
each behind its 2-byte length:
  pipelined   all of them in one send (one segment)
  prefix      the first one's length prefix alone, then, 50 ms later, the rest
Then reads answers until every query has one, the server closes, or 3 s pass, and prints one
line: "answers N RCODE..." (the answers in order: NOERROR or another RCODE name), "reset"
(the connection was reset), or "timeout N" (N answers came first). Exits 0 unless the
arguments are wrong (2).
"""
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def query(qid, name):
    """An A query for name with RD set, without EDNS."""
    wire = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", 1, 1)


def main(argv):
    if len(argv) < 4 or argv[2] not in ("pipelined", "prefix"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    server, how, names = argv[1], argv[2], argv[3:]
    msgs = [query(0x5000 + i, n) for i, n in enumerate(names)]
    stream = b"".join(struct.pack(">H", len(m)) + m for m in msgs)
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    answers = []
    try:
        s.connect((server, 53))
        if how == "pipelined":
            s.sendall(stream)
        else:
            s.sendall(stream[:2])
            time.sleep(0.05)
            s.sendall(stream[2:])
        buf = b""
        deadline = time.monotonic() + 3
        while len(answers) < len(msgs):
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data = s.recv(65535)
            if not data:
                break
            buf += data
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                msg, buf = buf[2 : 2 + n], buf[2 + n :]
                answers.append(RCODES.get(msg[3] & 0xF, str(msg[3] & 0xF)))
    except ConnectionResetError:
        print("reset")
        return 0
    except (socket.timeout, TimeoutError):
        print("timeout %d" % len(answers))
        return 0
    finally:
        s.close()
    print(" ".join(["answers", str(len(answers))] + answers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

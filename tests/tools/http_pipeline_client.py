#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""HTTP/1.1 requests pipelined in one segment, for tests/e2e/test_domains.sh.

  http_pipeline_client.py SERVER PORT HOST [HOST...]

Opens one TCP connection to SERVER:PORT (TCP_NODELAY) and sends a GET / for each HOST (its
Host header) in one send, then reads until every request has its response status line, the
server closes, or 3 s pass. Prints one line: "responses N" (N status lines seen), "reset"
(the connection was reset), or "timeout N". Exits 0 unless the arguments are wrong (2).
"""
import socket
import sys
import time


def main(argv):
    if len(argv) < 4 or not argv[2].isdigit():
        print(__doc__.strip(), file=sys.stderr)
        return 2
    server, port, hosts = argv[1], int(argv[2]), argv[3:]
    reqs = b"".join(
        b"GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: pipeline/1\r\n\r\n" % h.encode()
        for h in hosts
    )
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(3)
    got = b""
    try:
        s.connect((server, port))
        s.sendall(reqs)
        deadline = time.monotonic() + 3
        while got.count(b"HTTP/1.") < len(hosts):
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data = s.recv(65535)
            if not data:
                break
            got += data
    except ConnectionResetError:
        print("reset")
        return 0
    except (socket.timeout, TimeoutError):
        print("timeout %d" % got.count(b"HTTP/1."))
        return 0
    finally:
        s.close()
    print("responses %d" % got.count(b"HTTP/1."))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

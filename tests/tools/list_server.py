#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A list server for tests/unit/test_fetch.c: serves the files of --root on 127.0.0.1.

Each file is served with an ETag (from its content) and a Last-Modified (its mtime), and
conditional requests get 304 (If-None-Match first; If-Modified-Since only without it).
A file ROOT/PATH.mode, read at every request, switches the answer for PATH:
  ok (or no .mode file)  as above
  noetag                 as above without ETag (so only If-Modified-Since can give 304)
  500                    HTTP 500
  slow                   headers and 10 bytes, then nothing for 60 s
  trickle SECONDS        the body in 20 pieces, SECONDS apart
  nolen                  the body without Content-Length, delimited by closing the connection
  short                  Content-Length of the whole file, half the body, then close
  redirect LOCATION      302 to LOCATION
Every request is logged to --log as one line:
  GET /PATH inm=<If-None-Match or -> ims=<If-Modified-Since or -> -> STATUS
The chosen port is written to --port-file (atomically) once the server listens.
The test kills it by PID (SIGTERM); should the test die first, the server sees its parent
change and exits by itself.
"""

import argparse
import email.utils
import hashlib
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bpfguard-test-lists"
    sys_version = ""

    def log_message(self, fmt, *args):  # silence the default stderr log
        pass

    def log_request_line(self, status):
        inm = self.headers.get("If-None-Match") or "-"
        ims = self.headers.get("If-Modified-Since") or "-"
        with LOG_LOCK, open(self.server.log_path, "a", encoding="utf-8") as f:
            f.write(f"{self.command} {self.path} inm={inm} ims={ims} -> {status}\n")

    def simple(self, status, body=b""):
        self.log_request_line(status)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        if not rel or ".." in rel.split("/"):
            return self.simple(404, b"not found\n")
        path = os.path.join(self.server.root, rel)
        mode = ["ok"]
        try:
            with open(path + ".mode", encoding="utf-8") as f:
                mode = f.read().split() or ["ok"]
        except FileNotFoundError:
            pass
        if mode[0] == "500":
            return self.simple(500, b"internal error (test mode)\n")
        if mode[0] == "redirect":
            self.log_request_line(302)
            self.send_response(302)
            self.send_header("Location", mode[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        try:
            with open(path, "rb") as f:
                body = f.read()
            mtime = os.stat(path).st_mtime
        except (FileNotFoundError, IsADirectoryError):
            return self.simple(404, b"not found\n")

        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        use_etag = mode[0] != "noetag"
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        not_modified = False
        if inm is not None:
            not_modified = use_etag and (inm.strip() == "*" or etag in
                                         [t.strip() for t in inm.split(",")])
        elif ims is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
                not_modified = int(mtime) <= since
            except (TypeError, ValueError):
                not_modified = False

        if not_modified:
            self.log_request_line(304)
            self.send_response(304)
            if use_etag:
                self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return None

        self.log_request_line(200)
        self.send_response(200)
        if use_etag:
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Content-Type", "application/octet-stream")
        if mode[0] == "nolen":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return None
        self.send_header("Content-Length", str(len(body)))
        if mode[0] == "short":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return None
        self.end_headers()
        try:
            if mode[0] == "slow":
                self.wfile.write(body[:10])
                self.wfile.flush()
                time.sleep(60)
                self.wfile.write(body[10:])
            elif mode[0] == "trickle":
                gap = float(mode[1]) if len(mode) > 1 else 0.05
                step = max(1, (len(body) + 19) // 20)
                for off in range(0, len(body), step):
                    self.wfile.write(body[off : off + step])
                    self.wfile.flush()
                    time.sleep(gap)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return None


def exit_with_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.root = os.path.abspath(args.root)
    server.log_path = args.log
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

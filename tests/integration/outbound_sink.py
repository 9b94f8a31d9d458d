#!/usr/bin/env python3
"""A loopback HTTP sink for the outbound webhook tests (standard library only).

  outbound_sink.py serve PORT LOG   answers by path and appends each request to LOG (JSON lines):
      /ok                 200
      /status/N           status N
      /retry-after/N      429 with Retry-After: N
      /hang               sleeps 30 s before answering (past any test timeout)
      /redirect           302 to /ok
      /close              closes the connection without an answer
      /flaky/N            500 for the first N requests of each webhook-id (to this path), then 200
      /slow/MS            200 after MS milliseconds (each request logs how many ran at once)
      /down-until/T       503 until Unix time T, then 200
  outbound_sink.py pace LOG PATH  prints, for the requests to PATH: count, the most running at
      once, the most that arrived within any one second, and the seconds from first to last.
  outbound_sink.py verify LOG SECRET  checks the Standard Webhooks signature of every logged request
      (an independent HMAC-SHA256 check) and prints: requests, distinct ids, bad signatures.
  outbound_sink.py verify-v1a LOG WHPK  the same for v1a (Ed25519) signatures under the whpk_
      public key, checked independently by the openssl command line tool.
"""
import base64
import collections
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = collections.Counter()
ACTIVE = collections.Counter()


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        wid = self.headers.get("webhook-id", "")
        with LOCK:
            SEEN[(self.path, wid)] += 1
            seen = SEEN[(self.path, wid)]
            ACTIVE[self.path] += 1
            active = ACTIVE[self.path]
            with open(self.server.log, "a") as log:
                log.write(json.dumps({"path": self.path, "id": wid,
                                      "timestamp": self.headers.get("webhook-timestamp", ""),
                                      "signature": self.headers.get("webhook-signature", ""),
                                      "body": body.decode("utf-8", "replace"),
                                      "at": time.time(), "active": active}) + "\n")
        self.counted = True
        try:
            self.answer(seen)
        finally:
            self.leave()

    def leave(self):
        # A request stops counting as active before its answer is written: once the sender has the
        # answer it may start the next one, possibly before this thread runs again.
        if self.counted:
            self.counted = False
            with LOCK:
                ACTIVE[self.path] -= 1

    def answer(self, seen):
        parts = self.path.strip("/").split("/")
        if parts[0] == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if parts[0] == "hang":
            time.sleep(30)
            return
        status, headers = 200, {}
        if parts[0] == "status":
            status = int(parts[1])
        elif parts[0] == "retry-after":
            status, headers = 429, {"Retry-After": parts[1]}
        elif parts[0] == "redirect":
            status, headers = 302, {"Location": "/ok"}
        elif parts[0] == "flaky":
            status = 500 if seen <= int(parts[1]) else 200
        elif parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000)
        elif parts[0] == "down-until":
            status = 503 if time.time() < float(parts[1]) else 200
        self.leave()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "2")
        self.end_headers()
        try:
            self.wfile.write(b"ok")
        except OSError:
            pass  # the sender gave up (a timeout): nothing to answer


class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections beyond it and the sender's SYN is
    # retried a second later: a burst would then arrive bunched, not as it was sent.
    request_queue_size = 256


def serve(port, log):
    server = Server(("127.0.0.1", int(port)), Sink)
    server.daemon_threads = True
    server.log = log
    server.serve_forever()


def count_verified(log, scheme, verifies):
    # Prints: requests, distinct ids, requests whose `scheme` signatures all fail verifies().
    total, ids, bad = 0, set(), 0
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            total += 1
            ids.add(r["id"])
            signed = ("%s.%s.%s" % (r["id"], r["timestamp"], r["body"])).encode()
            given = [s.split(",", 1)[1] for s in r["signature"].split(" ")
                     if s.startswith(scheme + ",")]
            if not any(verifies(signed, g) for g in given):
                bad += 1
    print(total, len(ids), bad)


def verify(log, secret):
    key = base64.b64decode(secret[len("whsec_"):])

    def verifies(signed, given):
        want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(want, given)
    count_verified(log, "v1", verifies)


def pace(log, path):
    rows = [json.loads(line) for line in open(log)]
    rows = [r for r in rows if r["path"] == path]
    at = sorted(r["at"] for r in rows)
    per_second = max((sum(1 for b in at if a <= b < a + 1) for a in at), default=0)
    span = at[-1] - at[0] if at else 0
    print(len(rows), max((r["active"] for r in rows), default=0), per_second, "%.2f" % span)


def ed25519_verifies(der_key, message, signature):
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, n) for n in ("key.der", "msg", "sig")]
        for path, data in zip(paths, (der_key, message, signature)):
            with open(path, "wb") as f:
                f.write(data)
        done = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER",
                               "-inkey", paths[0], "-rawin", "-in", paths[1], "-sigfile", paths[2]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return done.returncode == 0


def verify_v1a(log, whpk):
    # An Ed25519 SubjectPublicKeyInfo: the fixed DER prefix, then the 32 raw key bytes.
    der_key = bytes.fromhex("302a300506032b6570032100") + base64.b64decode(whpk[len("whpk_"):])
    count_verified(log, "v1a",
                   lambda signed, given: ed25519_verifies(der_key, signed, base64.b64decode(given)))


if __name__ == "__main__":
    if sys.argv[1] == "verify-v1a":
        verify_v1a(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "pace":
        pace(sys.argv[2], sys.argv[3])
    else:
        verify(sys.argv[2], sys.argv[3])

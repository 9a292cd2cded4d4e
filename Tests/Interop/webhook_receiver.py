#!/usr/bin/env python3
"""A Standard Webhooks receiver for Halyard's interoperability test.

Usage: webhook_receiver.py PORT [SECRET]

Listens on 127.0.0.1:PORT (0 picks a free port) and prints "READY <port>" once it
accepts connections. Every POST is verified with the reference `standardwebhooks`
package (pip install standardwebhooks) using SECRET (or the HALYARD_WEBHOOK_SECRET
environment variable). A verified request is answered 204 and printed as one JSON
line: {"path", "id", "timestamp", "payload"}. A request that fails verification
is answered 400 and reported on stderr.
"""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def make_handler(webhook):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = self.headers.get("Content-Length")
            if length is None:
                self._answer(411, "missing Content-Length")
                return
            body = self.rfile.read(int(length))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                payload = webhook.verify(body, headers)
            except (WebhookVerificationError, ValueError) as error:
                print(f"rejected {self.path}: {error}", file=sys.stderr, flush=True)
                self._answer(400, str(error))
                return
            line = {
                "path": self.path,
                "id": headers.get("webhook-id"),
                "timestamp": int(headers.get("webhook-timestamp")),
                "contentType": headers.get("content-type"),
                "payload": payload,
            }
            print(json.dumps(line, sort_keys=True), flush=True)
            self._answer(204)

        def _answer(self, status, message=None):
            body = json.dumps({"error": message}).encode() if message else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if body:
                self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    # A parent may start us with every signal blocked (Swift's Process does): unblock them so SIGTERM and Ctrl-C work.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    secret = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("HALYARD_WEBHOOK_SECRET")
    if not secret:
        print("a secret is required (argument or HALYARD_WEBHOOK_SECRET)", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(Webhook(secret)))
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

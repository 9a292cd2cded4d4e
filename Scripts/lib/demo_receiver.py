#!/usr/bin/env python3
"""The receiving server of Scripts/demo: verifies Halyard's webhook refresh calls and prints each one.

Usage: demo_receiver.py SECRET STATE_DIR

Listens on 127.0.0.1 with a free port and writes that port to STATE_DIR/port once it accepts
connections.
Every POST is checked the Standard Webhooks way, with the Python standard library only:
the key is the base64-decoded part of SECRET after "whsec_", the signed content is
"{webhook-id}.{webhook-timestamp}.{body}", and "webhook-signature" holds one or more
space-separated "v1,<base64 HMAC-SHA256>" values. A verified call is answered 204, printed
as one readable line and counted in STATE_DIR/count (the number of verified calls so far);
anything else is answered 400 and reported.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Reject calls whose timestamp is further than this from our clock (Standard Webhooks' replay guard).
TOLERANCE_SECONDS = 5 * 60


def verify(key, headers, body):
    """Returns None when the call is authentic, else the reason it is not."""
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return "timestamp too far from now"
    except ValueError:
        return "webhook-timestamp is not a number"
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return None
    return "no matching v1 signature"


def write_atomically(path, text):
    """Writes a whole file, then renames it into place, so a reader never sees it half written."""
    with open(path + ".tmp", "w") as file:
        file.write(text)
    os.replace(path + ".tmp", path)


def make_handler(key, count_file):
    lock = threading.Lock()
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            problem = verify(key, headers, body)
            if problem is None:
                try:
                    payload = json.loads(body)
                    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
                        problem = "the body is not a flags.changed message"
                except ValueError:
                    problem = "the body is not JSON"
            if problem is not None:
                print(f"    receiver: REJECTED {self.path}: {problem}", flush=True)
                self._answer(400)
                return
            data = payload["data"]
            changes = ", ".join(
                f"{kind} {' '.join(data.get(kind) or [])}" for kind in ("added", "removed", "changed") if data.get(kind)
            )
            with lock:
                count[0] += 1
                # Printed before the count is written, so the demo never reports a call it has not shown.
                print(
                    f"    receiver: verified {payload.get('type')} #{count[0]} id={headers['webhook-id']} "
                    f"environment={data.get('environment')} commit={str(data.get('commit'))[:8]} "
                    f"previous={str(data.get('previousCommit'))[:8]} ({changes or 'no change'})",
                    flush=True,
                )
                write_atomically(count_file, f"{count[0]}\n")
            self._answer(204)

        def do_GET(self):
            self._answer(405)

        def _answer(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    if len(sys.argv) != 3 or not sys.argv[1].startswith("whsec_"):
        print(__doc__, file=sys.stderr)
        return 2
    key = base64.b64decode(sys.argv[1][len("whsec_"):])
    state_dir = sys.argv[2]
    count_file = os.path.join(state_dir, "count")
    write_atomically(count_file, "0\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(key, count_file))
    server.daemon_threads = True
    port = server.server_address[1]
    write_atomically(os.path.join(state_dir, "port"), f"{port}\n")
    print(f"    receiver: listening on http://127.0.0.1:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The receiving server of Scripts/cluster: several subscribers on one port, each call verified and logged.

Usage: cluster_receiver.py STATE_DIR

Listens on 127.0.0.1 with a free port and writes that port to STATE_DIR/port once it accepts connections.
Subscriber NAME is reached at POST /hook/NAME; its signing secret is read from STATE_DIR/secrets/NAME at each call,
so a subscription can be created first (Halyard generates its secret and shows it once) and its secret written
afterwards. Each call is checked the Standard Webhooks way (verify() of demo_receiver.py, the standard library
only). A verified call is answered 204 and appended to STATE_DIR/calls.log as one line:

    NAME WEBHOOK_ID ENVIRONMENT COMMIT PREVIOUS_COMMIT

and printed readably; anything else is answered 400, printed and appended to STATE_DIR/rejected.log.
"""

import base64
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_receiver import verify, write_atomically  # noqa: E402


def read_key(state_dir, name):
    """The HMAC key of subscriber NAME (the base64 part of its whsec_ secret), or None when it has none yet."""
    if not name or "/" in name or name.startswith("."):
        return None
    try:
        with open(os.path.join(state_dir, "secrets", name)) as file:
            secret = file.read().strip()
    except OSError:
        return None
    if not secret.startswith("whsec_"):
        return None
    return base64.b64decode(secret[len("whsec_"):])


def make_handler(state_dir):
    lock = threading.Lock()
    calls_path = os.path.join(state_dir, "calls.log")
    rejected_path = os.path.join(state_dir, "rejected.log")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            name = self.path[len("/hook/"):] if self.path.startswith("/hook/") else ""
            key = read_key(state_dir, name)
            problem = "unknown subscriber (no secret for it)" if key is None else verify(key, headers, body)
            data = None
            if problem is None:
                try:
                    payload = json.loads(body)
                    data = payload.get("data") if isinstance(payload, dict) else None
                    if not isinstance(data, dict):
                        problem = "the body is not a flags.changed message"
                except ValueError:
                    problem = "the body is not JSON"
            if problem is not None:
                with lock:
                    with open(rejected_path, "a") as file:
                        file.write(f"{self.path} {problem}\n")
                print(f"    receiver: REJECTED {self.path}: {problem}", flush=True)
                self._answer(400)
                return
            line = "{} {} {} {} {}".format(
                name, headers["webhook-id"], data.get("environment"), data.get("commit"), data.get("previousCommit")
            )
            with lock:
                # Logged before the answer, so a call Halyard counts as delivered is always in the log.
                with open(calls_path, "a") as file:
                    file.write(line + "\n")
                    file.flush()
                    os.fsync(file.fileno())
            print(
                f"    receiver: {name}: verified id={headers['webhook-id']} environment={data.get('environment')} "
                f"commit={str(data.get('commit'))[:8]} previous={str(data.get('previousCommit'))[:8]}",
                flush=True,
            )
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
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    state_dir = sys.argv[1]
    os.makedirs(os.path.join(state_dir, "secrets"), exist_ok=True)
    open(os.path.join(state_dir, "calls.log"), "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state_dir))
    server.daemon_threads = True
    port = server.server_address[1]
    write_atomically(os.path.join(state_dir, "port"), f"{port}\n")
    print(f"    receiver: listening on http://127.0.0.1:{port}/hook/NAME", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Session fixtures of the console's browser tests: two real `halyard serve` processes, a webhook receiver, two
headless Chromium drivers (JavaScript on and off) and the screenshot folder.

Environment:
  HALYARD_BROWSER_BIN          the halyard binary (default: .build/debug/halyard)
  HALYARD_BROWSER_OUTPUT       where screenshots and server logs go (default: .build/test-output/console)
  HALYARD_BROWSER_SCREENSHOTS  when set to "update", the two README screenshots in docs/screenshots/ are replaced
"""

import http.server
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

import harness


@pytest.fixture(scope="session")
def halyard_binary():
    binary = Path(os.environ.get("HALYARD_BROWSER_BIN") or harness.ROOT / ".build/debug/halyard")
    if not os.access(binary, os.X_OK):
        pytest.exit(f"no halyard binary at {binary} (run swift build first)", returncode=2)
    return binary


@pytest.fixture(scope="session")
def work_dir():
    path = Path(tempfile.mkdtemp(prefix="halyard-browser."))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def output_dir():
    path = Path(os.environ.get("HALYARD_BROWSER_OUTPUT") or harness.ROOT / ".build/test-output/console")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    harness.NOTES.append(f"screenshots and server logs in {path}")
    return path


@pytest.fixture(scope="session")
def open_server(halyard_binary, work_dir, output_dir):
    """Serves the seeded repository with no read tokens (pages open); the admin token only triggers refreshes."""
    repo = harness.FlagRepository.seeded(work_dir / "open-repo")
    server = harness.HalyardServer(halyard_binary, repo, work_dir / "open-data", output_dir / "serve-open.log",
                                   admin_token="browser-admin-" + secrets.token_hex(16))
    yield server
    server.stop()


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Accepts every webhook with 204."""

    def do_POST(self):  # noqa: N802 - the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/flags"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def auth_server(halyard_binary, work_dir, output_dir, receiver):
    """Serves its own copy of the seeded repository with a read token and an admin token configured, and one
    subscription that has received one webhook (so the subscriptions page has a delivery to show)."""
    repo = harness.FlagRepository.seeded(work_dir / "auth-repo")
    server = harness.HalyardServer(halyard_binary, repo, work_dir / "auth-data", output_dir / "serve-auth.log",
                                   admin_token="browser-admin-" + secrets.token_hex(16),
                                   read_tokens=["browser-read-" + secrets.token_hex(16)])
    created = server.post("/v1/subscriptions", {"url": receiver, "environments": ["production"]},
                          token=server.admin_token)
    if created.status != 201:
        server.stop()
        raise harness.HarnessError(f"POST /v1/subscriptions answered {created.status}: {created.body}")
    server.subscription_id = created.json()["id"]
    flag = repo.path / "flags/production/dark-mode.json"
    flag.write_text(flag.read_text().replace('"staff", "designer"', '"staff", "designer", "support"'))
    commit = repo.commit("dark-mode: support staff see it too in production", author=("Ada Lovelace", "ada@example.com"),
                         date="2026-11-19T11:20:00Z")
    server.refresh()
    server.wait_for_commit(commit)

    def delivered():
        result = server.get(f"/v1/subscriptions/{server.subscription_id}/deliveries", token=server.admin_token)
        return result.status == 200 and result.json().get("deliveries")
    harness.wait_until(delivered, 15, "the subscription's first delivery")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def driver():
    browser = harness.make_driver(javascript=True)
    yield browser
    browser.quit()


@pytest.fixture(scope="session")
def nojs_driver():
    browser = harness.make_driver(javascript=False)
    yield browser
    browser.quit()


@pytest.fixture
def browser(driver):
    """The JavaScript driver, with no cookies and the desktop viewport, for one test."""
    driver.delete_all_cookies()
    harness.reset_viewport(driver)
    driver.get_log("browser")
    yield driver


def pytest_terminal_summary(terminalreporter):
    for note in harness.NOTES:
        terminalreporter.write_line(f"==> browser: {note}")

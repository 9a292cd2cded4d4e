"""The real things the console's browser tests drive: a flag repository, `halyard serve` processes, headless Chromium.

Nothing here is faked: the repository is a real git repository seeded from this repository's example `flags/`, the
servers are the debug `halyard` binary on loopback ports it picks itself, and the browser is Debian's Chromium through
Debian's chromedriver (Selenium never downloads a driver or a browser here).
"""

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]

XSS_DESCRIPTION = "<script>alert(1)</script>"

DESKTOP = (1280, 900)
PHONE = (390, 844)


NOTES = []
"""Lines the run prints at its end (measured times, where the screenshots are): pytest captures the tests' output."""


class HarnessError(Exception):
    """A set-up step failed: the message says which, with the server log or git output that explains it."""


def wait_until(condition, timeout, what, interval=0.05):
    """Polls `condition` until it returns a truthy value (returned) or `timeout` seconds pass (HarnessError)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - the last error goes into the message
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise HarnessError(f"timed out after {timeout} s waiting for {what}{detail}")
        time.sleep(interval)


# -- the flag repository ---------------------------------------------------------------------------------------------

class FlagRepository:
    """A git repository with a `flags/` directory, committed to with fixed identities (and fixed dates when given)."""

    def __init__(self, path):
        self.path = Path(path)

    def git(self, *args, env=None):
        result = subprocess.run(
            ["git", "-C", str(self.path), "-c", "commit.gpgsign=false", *args],
            capture_output=True, text=True, env={**os.environ, **(env or {})},
        )
        if result.returncode != 0:
            raise HarnessError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def write(self, relative, text):
        file = self.path / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)

    def remove(self, relative):
        self.git("rm", "-q", relative)

    def commit(self, subject, author=("Grace Hopper", "grace@example.com"), date=None):
        """Commits everything in the work tree; returns the full commit id."""
        env = {
            "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
        }
        if date:
            env["GIT_AUTHOR_DATE"] = date
            env["GIT_COMMITTER_DATE"] = date
        self.git("add", "-A")
        self.git("commit", "-q", "-m", subject, env=env)
        return self.head()

    def head(self):
        return self.git("rev-parse", "HEAD")

    @classmethod
    def seeded(cls, path):
        """The example flags (three environments) in three commits with fixed authors and dates, so the commit ids,
        and with them the screenshots, are the same on every run:

        1. the example `flags/` as they are in this repository;
        2. `xss-probe` in development, whose description is `<script>alert(1)</script>`;
        3. production `new-checkout` moves from 25% to 40% of enterprise userIds (the served commit).
        """
        repo = cls(path)
        repo.path.mkdir(parents=True)
        shutil.copytree(ROOT / "flags", repo.path / "flags")
        repo.git("init", "-q", "-b", "main")
        first = repo.commit("Add the example flags for development, staging and production",
                            author=("Grace Hopper", "grace@example.com"), date="2026-11-16T09:30:00Z")
        repo.write("flags/development/xss-probe.json", json.dumps({
            "name": "XSS probe",
            "description": XSS_DESCRIPTION,
            "active": True,
            "rules": [[{"type": "filter", "attribute": "role", "operator": "==", "comparator": "staff"}]],
        }, indent=2) + "\n")
        second = repo.commit("development: xss-probe, a flag whose description is markup",
                             author=("Mallory Markup", "mallory@example.com"), date="2026-11-17T14:05:00Z")
        production = repo.path / "flags/production/new-checkout.json"
        text = production.read_text()
        if '"percentage": 25' not in text:
            raise HarnessError("flags/production/new-checkout.json no longer has a 25% rule to raise")
        production.write_text(text.replace('"percentage": 25', '"percentage": 40').replace("sticky 25%", "sticky 40%"))
        third = repo.commit("new-checkout: 40% of enterprise userIds in production",
                            author=("Ada Lovelace", "ada@example.com"), date="2026-11-18T16:45:00Z")
        repo.seed_commits = (first, second, third)
        return repo


# -- halyard serve ---------------------------------------------------------------------------------------------------

class HTTPResult:
    """Status, headers and body of one HTTP exchange."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method, url, body=None, headers=None, timeout=10):
    """One request without following redirects; a 4xx or 5xx is a result, not an exception."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return HTTPResult(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return HTTPResult(error.code, error.headers, error.read().decode())


class HalyardServer:
    """A real `halyard serve` in local mode on a free loopback port, serving `repo`; stopped with `stop()`."""

    def __init__(self, binary, repo, data_dir, log_path, admin_token=None, read_tokens=()):
        self.repo = repo
        self.admin_token = admin_token
        self.read_tokens = tuple(read_tokens)
        self.log_path = Path(log_path)
        env = {key: value for key, value in os.environ.items() if not key.startswith("HALYARD_")}
        env["HALYARD_NOTIFY_ALLOW_PRIVATE_NETWORKS"] = "true"
        if admin_token:
            env["HALYARD_AUTH_ADMIN_TOKEN"] = admin_token
        if read_tokens:
            env["HALYARD_AUTH_READ_TOKENS"] = ",".join(read_tokens)
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(binary), "serve", "--port", "0", "--data-dir", str(data_dir), "--log-level", "notice"],
            cwd=repo.path, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.base_url = None
        try:
            self.base_url = wait_until(self._bound_url, 30, f"halyard serve to log its URL in {self.log_path}")
            wait_until(lambda: http("GET", self.base_url + "/readyz").status == 200, 30, "GET /readyz to answer 200")
        except HarnessError as error:
            self.stop()
            raise HarnessError(f"{error}\n--- {self.log_path} ---\n{self.log_path.read_text()}") from None

    def _bound_url(self):
        if self.process.poll() is not None:
            raise HarnessError(f"halyard serve exited with status {self.process.returncode}:\n"
                               f"{self.log_path.read_text()}")
        match = re.search(r"url=(http://[0-9.]+:[0-9]+)", self.log_path.read_text())
        return match.group(1) if match else None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def alive(self):
        return self.process.poll() is None

    def _auth(self, token):
        """`None`: the first read token, if any; `""`: no token at all; else that token."""
        if token is None:
            token = self.read_tokens[0] if self.read_tokens else ""
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, token=None, headers=None):
        return http("GET", self.base_url + path, headers={**self._auth(token), **(headers or {})})

    def post(self, path, body=None, token=None, headers=None):
        return http("POST", self.base_url + path, body=body, headers={**self._auth(token), **(headers or {})})

    def status(self):
        result = self.get("/v1/status")
        if result.status != 200:
            raise HarnessError(f"GET /v1/status answered {result.status}: {result.body}")
        return result.json()

    def evaluate(self, environment, flag, context):
        """`POST /v1/environments/{env}/evaluate` with `"details": true` for one flag: `{value, variant?, reason}`."""
        result = self.post(f"/v1/environments/{environment}/evaluate",
                           {"context": context, "flags": [flag], "details": True})
        if result.status != 200:
            raise HarnessError(f"evaluate answered {result.status}: {result.body}")
        return result.json()["flags"][flag]

    def refresh(self):
        """Asks for an immediate look at the branch (`POST /v1/refresh`, admin token)."""
        result = self.post("/v1/refresh", token=self.admin_token)
        if result.status != 202:
            raise HarnessError(f"POST /v1/refresh answered {result.status}: {result.body}")

    def wait_for_commit(self, commit, timeout=10):
        """Waits until `/v1/status` serves `commit`."""
        wait_until(lambda: self.status().get("commit") == commit, timeout, f"commit {commit[:7]} to be served")

    def wait_for_rejection(self, commit, timeout=10):
        """Waits until `/v1/status` shows `commit` rejected; returns the `rejected` object."""
        def rejected():
            value = self.status().get("rejected")
            return value if value and value.get("commit") == commit else None
        return wait_until(rejected, timeout, f"commit {commit[:7]} to be rejected")


# -- the browser -----------------------------------------------------------------------------------------------------

def chromium_binary():
    return os.environ.get("HALYARD_BROWSER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def chromedriver_binary():
    return os.environ.get("HALYARD_BROWSER_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"


def make_driver(javascript=True, back_forward_cache=False):
    """Headless Chromium as root (`--no-sandbox`), 1280×900, keeping the browser console log for `get_log`.

    The back/forward cache is off unless asked for: one test checks the console with it on (pages kept in it must not
    hold their SSE connections open), and with it off a failure of that test does not hang every other test."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-sync", "--password-store=basic", "--lang=en-US"):
        options.add_argument(argument)
    if not back_forward_cache:
        options.add_argument("--disable-features=BackForwardCache")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_argument("--blink-settings=scriptEnabled=false")
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver_binary()))
    driver.set_page_load_timeout(20)
    driver.javascript = javascript
    return driver


def console_errors(driver, allow=()):
    """The SEVERE entries of the browser console since the last call, less those matching a regex in `allow`."""
    entries = driver.get_log("browser")
    return [entry for entry in entries
            if entry.get("level") == "SEVERE" and not any(re.search(pattern, entry.get("message", "")) for pattern in allow)]


def wait_for(driver, css, timeout=5, what=None):
    """The first element matching `css` once it is present."""
    return WebDriverWait(driver, timeout).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, css)), message=what or f"no element matches {css}")


def set_viewport(driver, size, phone=False):
    """Emulates a viewport of exactly `size` CSS pixels (a phone also gets touch and the meta viewport honoured)."""
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone,
    })


def reset_viewport(driver):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def full_page_png(driver, size):
    """A PNG of the whole page (beyond the viewport) at the emulated viewport `size`, as wide as it."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    content = metrics.get("cssContentSize") or metrics["contentSize"]
    width = size[0]
    height = max(int(content["height"]), size[1])
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 8000), "scale": 1},
    })
    return base64.b64decode(shot["data"])

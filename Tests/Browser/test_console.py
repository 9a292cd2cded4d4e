"""The console (`/ui`, DESIGN §12, issue 14) in a real headless Chromium against real `halyard serve` processes.

The tests read the page only through the `data-test` hooks of the console contract (/work/wt/CONSOLE.md in the
project notes, summarised in Tests/Browser/README.md), never through styling classes. Every page load also checks
that the browser console shows no error, that the title ends with "· Halyard", and that no token is in the URL.
"""

import json
import os
import re
import shutil
import time
import urllib.parse

import pytest
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

import harness
from harness import DESKTOP, PHONE, XSS_DESCRIPTION, console_errors, wait_for

# Chromium logs the status of a main document that is not 2xx as a console error; the steps that expect a 401 or a
# 403 page allow exactly that line and nothing else.
STATUS_401_403 = (r"status of 40[13]",)


# -- helpers ---------------------------------------------------------------------------------------------------------

def all_tokens(*servers):
    tokens = []
    for server in servers:
        tokens += [server.admin_token, *server.read_tokens]
    return [token for token in tokens if token]


def assert_no_token_in_url(driver, *servers):
    url = urllib.parse.unquote(driver.current_url)
    for token in all_tokens(*servers):
        assert token not in url, f"a token is in the URL {driver.current_url}"


def open_page(driver, server, path, page, allow=(), live=None):
    """Loads `path`, waits for `<main data-page=page>` and (JavaScript on, environment and flag pages) for the live
    stream to be open; checks the title, the URL and the browser console. Returns the `<main>` element."""
    driver.get_log("browser")
    driver.get(server.base_url + path)
    return check_page(driver, server, page, allow=allow, live=live)


def check_page(driver, server, page, allow=(), live=None):
    main = wait_for(driver, f'main[data-test="page"][data-page="{page}"]', timeout=10,
                    what=f"{driver.current_url} is not the {page} page")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    if live is None:
        live = page in ("environment", "flag")
    if live and driver.javascript:
        WebDriverWait(driver, 5).until(
            lambda d: d.execute_script("return document.body.dataset.live") == "connected",
            message=f"the live stream of {driver.current_url} did not open (body[data-live])")
    assert driver.title.endswith(" · Halyard"), f"title {driver.title!r}"
    assert_no_token_in_url(driver, server)
    errors = console_errors(driver, allow)
    assert not errors, f"browser console errors on {driver.current_url}: {errors}"
    return main


def text_of(element, css):
    """The rendered text of the first match (line breaks between blocks)."""
    return element.find_element(By.CSS_SELECTOR, css).text.strip()


def content_of(element, css):
    """The text content of the first match, whitespace collapsed: what the page says before CSS such as
    `text-transform: uppercase` changes how it looks (the contract's "active", `"compact"`, `SPLIT`)."""
    return " ".join(element.find_element(By.CSS_SELECTOR, css).get_attribute("textContent").split())


def flags_of(server, environment):
    return server.get(f"/v1/environments/{environment}/flags").json()["flags"]


def click_and_wait_for_the_next_page(driver, element):
    """Clicks a link or submit button and waits until the browser has left the page, so that a check of the next page
    never reads the old one (a failed login answers with a login page just like the one it replaces)."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(old), message="the click did not load a page")


def login(driver, server, token, expect="overview", allow=()):
    driver.get_log("browser")
    open_page(driver, server, "/ui/login", "login")
    form = driver.find_element(By.CSS_SELECTOR, 'form[data-test="login-form"]')
    form.find_element(By.CSS_SELECTOR, 'input[name="token"]').send_keys(token)
    click_and_wait_for_the_next_page(driver, form.find_element(By.CSS_SELECTOR, '[data-test="login-submit"]'))
    return check_page(driver, server, expect, allow=allow, live=False)


@pytest.fixture(params=["javascript", "no-javascript"])
def any_browser(request, driver, nojs_driver):
    """Each read-page test runs twice: with JavaScript and without (every page must work without it)."""
    browser = driver if request.param == "javascript" else nojs_driver
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    harness.reset_viewport(browser)
    browser.get_log("browser")
    return browser


@pytest.fixture
def nojs_browser(nojs_driver):
    nojs_driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    nojs_driver.get_log("browser")
    return nojs_driver


@pytest.fixture
def browser(driver):
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    harness.reset_viewport(driver)
    driver.get_log("browser")
    return driver


# -- the drivers -----------------------------------------------------------------------------------------------------

def test_the_second_driver_runs_no_javascript(nojs_browser):
    nojs_browser.get("data:text/html,<title>before</title><script>document.title='after'</script>")
    assert nojs_browser.title == "before"


def test_the_checks_see_a_console_error_and_an_alert(browser):
    """The console-error and alert checks of every page test are not vacuous: on a page that logs an error and opens
    an alert, both show."""
    browser.get("data:text/html,<title>probe</title><script>console.error('probe error')</script>")
    assert any("probe error" in entry["message"] for entry in console_errors(browser))
    browser.get("data:text/html,<title>probe</title><script>alert(1)</script>")
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert alert.text == "1"
    alert.dismiss()


# -- read pages ------------------------------------------------------------------------------------------------------

def test_overview_shows_the_served_commit_fetch_status_and_environments(any_browser, open_server):
    status = open_server.status()
    commit = status["commit"]
    main = open_page(any_browser, open_server, "/ui", "overview")

    served = text_of(main, '[data-test="served-commit"]')
    assert commit[:7] in served, served
    assert "Ada Lovelace" in served, served
    assert "new-checkout: 40% of enterprise userIds in production" in served, served
    served_html = main.find_element(By.CSS_SELECTOR, '[data-test="served-commit"]').get_attribute("innerHTML")
    assert "2026-11-18" in served_html or "18 Nov" in served or "Nov 18" in served, served
    assert text_of(main, '[data-test="fetch-status"]')
    assert not main.find_elements(By.CSS_SELECTOR, '[data-test="rejection"]')

    cards = {card.get_attribute("data-env"): card
             for card in main.find_elements(By.CSS_SELECTOR, '[data-test="environment"]')}
    assert set(cards) == set(status["environments"]) == {"development", "staging", "production"}
    for environment, card in cards.items():
        link = card.find_element(By.CSS_SELECTOR, f'a[href$="/ui/environments/{environment}"]')
        assert link.text.strip() == environment
        count = status["environments"][environment]["flags"]
        assert re.search(rf"\b{count}\b", card.text), f"{environment}: no flag count {count} in {card.text!r}"

    click_and_wait_for_the_next_page(any_browser, cards["production"].find_element(By.CSS_SELECTOR, "a"))
    check_page(any_browser, open_server, "environment")
    assert any_browser.current_url == open_server.base_url + "/ui/environments/production"


def test_environment_page_lists_every_flag_in_words_with_its_state(any_browser, open_server):
    for environment in ("production", "staging", "development"):
        expected = flags_of(open_server, environment)
        main = open_page(any_browser, open_server, f"/ui/environments/{environment}", "environment")
        rows = {row.get_attribute("data-flag"): row for row in main.find_elements(By.CSS_SELECTOR, '[data-test="flag"]')}
        assert set(rows) == set(expected), environment
        for flag_id, row in rows.items():
            summary = text_of(row, '[data-test="flag-summary"]')
            assert summary, f"{environment}/{flag_id}: empty summary"
            assert not re.search(r'[{}\[\]]|"type"', summary), f"{environment}/{flag_id}: not words: {summary!r}"
            state = content_of(row, '[data-test="flag-state"]')
            assert state == ("active" if expected[flag_id].get("active") else "inactive"), (flag_id, state)
            assert text_of(row, '[data-test="flag-last-change"]'), flag_id

    main = open_page(any_browser, open_server, "/ui/environments/production", "environment")
    summary = lambda flag: text_of(main, f'[data-flag="{flag}"] [data-test="flag-summary"]')  # noqa: E731
    assert "enterprise" in summary("new-checkout") and "40%" in summary("new-checkout"), summary("new-checkout")
    assert "userId" in summary("new-checkout"), summary("new-checkout")
    layout = summary("checkout-layout")
    assert all(word in layout for word in ("one-page", "compact", "classic", "10", "90")), layout
    assert "inactive" == content_of(main, '[data-flag="maintenance-banner"] [data-test="flag-state"]')
    last_change = text_of(main, '[data-flag="new-checkout"] [data-test="flag-last-change"]')
    assert "Ada Lovelace" in last_change, last_change


def test_flag_page_shows_environments_side_by_side_rules_in_words_and_history_with_diffs(any_browser, open_server):
    first, _, third = open_server.repo.seed_commits
    main = open_page(any_browser, open_server, "/ui/environments/production/flags/new-checkout", "flag")

    sides = {side.get_attribute("data-env"): side for side in main.find_elements(By.CSS_SELECTOR, '[data-test="flag-env"]')}
    assert set(sides) == {"development", "staging", "production"}
    rules = text_of(sides["production"], '[data-test="rules"]')
    for word in ("Disney", "Pop Tarts", "enterprise", "40%", "userId"):
        assert word in rules, f"{word!r} not in the production rules {rules!r}"
    assert not re.search(r'[{}\[\]]|"type"|"operator"', rules), f"not words: {rules!r}"
    assert "50%" in text_of(sides["staging"], '[data-test="rules"]')

    entries = main.find_elements(By.CSS_SELECTOR, '[data-test="history-entry"]')
    assert len(entries) >= 2, [entry.text for entry in entries]
    change = next((entry for entry in entries if third[:7] in entry.text), None)
    assert change is not None, f"no history entry for {third[:7]}: {[entry.text for entry in entries]}"
    assert "Ada Lovelace" in change.text, change.text
    assert any(first[:7] in entry.text and "Grace Hopper" in entry.text for entry in entries)
    root_diff = None
    for entry in entries:
        href = entry.find_element(By.CSS_SELECTOR, 'a[data-test="history-diff"]').get_attribute("href")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query, keep_blank_values=True)
        assert urllib.parse.urlsplit(href).path == "/ui/diff" and query.get("to", [""])[0], href
        if first[:7] in entry.text:
            root_diff = href  # the first commit has no parent: its diff is from nothing (an empty `from`)
        else:
            assert query.get("from", [""])[0], href

    link = change.find_element(By.CSS_SELECTOR, 'a[data-test="history-diff"]')
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link.get_attribute("href")).query)
    assert third.startswith(query["to"][0]), query
    click_and_wait_for_the_next_page(any_browser, link)
    diff = check_page(any_browser, open_server, "diff")
    text = text_of(diff, '[data-test="diff"]')
    assert "production" in text and "new-checkout" in text and "40" in text, text
    assert "dark-mode" not in text, text

    any_browser.get(root_diff)
    diff = check_page(any_browser, open_server, "diff")
    assert not diff.find_elements(By.CSS_SELECTOR, '[data-test="diff-error"]')
    assert "new-checkout" in text_of(diff, '[data-test="diff"]')


def test_diff_page_between_any_two_commits(any_browser, open_server):
    first, second, third = open_server.repo.seed_commits
    main = open_page(any_browser, open_server, f"/ui/diff?from={first[:7]}&to={third}", "diff")
    text = text_of(main, '[data-test="diff"]')
    assert "xss-probe" in text and "new-checkout" in text, text
    assert "development" in text and "production" in text, text


# The try form: for each (environment, flag, context), the page's answer must be the JSON route's.
TRY_CASES = [
    ("production", "checkout-layout", {"targetingKey": "user-1"}),
    ("production", "checkout-layout", {"plan": "enterprise", "targetingKey": "user-2"}),
    ("production", "checkout-layout", {}),
    ("staging", "checkout-layout", {"targetingKey": "user-3"}),
    ("production", "new-checkout", {"customer": "Disney"}),
    ("production", "new-checkout", {"plan": "free", "userId": "u-7"}),
    ("production", "search-page-size", {"platform": "ios"}),
    ("staging", "banner-config", {"targetingKey": "visitor"}),
    ("production", "maintenance-banner", {"targetingKey": "anyone"}),
]


def submit_try_form(driver, server, environment, flag, context):
    """Opens the flag page, submits `context` in its try form, and returns the result element's four fields."""
    open_page(driver, server, f"/ui/environments/{environment}/flags/{flag}", "flag")
    if driver.javascript:
        driver.execute_script("window.__marker = 1")
    form = driver.find_element(By.CSS_SELECTOR, 'form[data-test="try-form"]')
    action = urllib.parse.urlsplit(form.get_attribute("action")).path
    assert action == f"/ui/environments/{environment}/flags/{flag}/evaluate", action
    assert form.get_attribute("method").lower() == "post"
    assert form.find_elements(By.CSS_SELECTOR, 'input[type="hidden"]'), "no hidden CSRF field in the try form"
    textarea = form.find_element(By.CSS_SELECTOR, 'textarea[name="context"]')
    textarea.clear()
    textarea.send_keys(json.dumps(context))
    form.find_element(By.CSS_SELECTOR, '[data-test="try-submit"]').click()

    def result(d):
        found = d.find_elements(By.CSS_SELECTOR, '[data-test="try-result"] [data-test="try-reason"]')
        return found and found[0].get_attribute("textContent").strip()
    WebDriverWait(driver, 5).until(result, message=f"no try result for {flag} in {environment} with {context}")
    if driver.javascript:
        assert driver.execute_script("return window.__marker") == 1, "the try form reloaded the page"
    else:
        check_page(driver, server, "flag", live=False)
    assert not console_errors(driver)
    assert_no_token_in_url(driver, server)
    box = driver.find_element(By.CSS_SELECTOR, '[data-test="try-result"]')
    return {name: content_of(box, f'[data-test="try-{name}"]') for name in ("value", "variant", "reason", "group")}


def test_try_form_gives_the_same_value_variant_and_reason_as_the_evaluate_route(any_browser, open_server):
    for environment, flag, context in TRY_CASES:
        expected = open_server.evaluate(environment, flag, context)
        shown = submit_try_form(any_browser, open_server, environment, flag, context)
        case = f"{environment}/{flag} with {context}: page {shown}, route {expected}"
        assert json.loads(shown["value"]) == expected["value"], case
        assert shown["variant"] == expected.get("variant", ""), case
        assert shown["reason"] == expected["reason"], case
        if expected["reason"] in ("TARGETING_MATCH", "SPLIT"):
            assert re.fullmatch(r"\d+", shown["group"]), case
        else:
            assert shown["group"] in ("", "—", "-", "none"), case
    # The cases cover every reason the examples can give.
    reasons = {open_server.evaluate(*case)["reason"] for case in TRY_CASES}
    assert {"SPLIT", "TARGETING_MATCH", "DEFAULT", "DISABLED"} <= reasons, reasons


def test_a_bad_context_in_the_try_form_is_a_clear_error(any_browser, open_server):
    open_page(any_browser, open_server, "/ui/environments/production/flags/new-checkout", "flag")
    form = any_browser.find_element(By.CSS_SELECTOR, 'form[data-test="try-form"]')
    textarea = form.find_element(By.CSS_SELECTOR, 'textarea[name="context"]')
    textarea.clear()
    textarea.send_keys('{"plan": ')
    form.find_element(By.CSS_SELECTOR, '[data-test="try-submit"]').click()
    error = wait_for(any_browser, '[data-test="try-error"]', what="no try error for a context that is not JSON")
    assert error.text.strip()
    any_browser.get_log("browser")  # a 400 answer may be logged; the page itself must still be the flag page
    check_page(any_browser, open_server, "flag", allow=(r"status of 400",), live=False)


def test_markup_in_a_description_shows_as_text(any_browser, open_server):
    for path, page in (("/ui/environments/development/flags/xss-probe", "flag"),
                       ("/ui/environments/development", "environment")):
        main = open_page(any_browser, open_server, path, page)
        with pytest.raises(NoAlertPresentException):
            any_browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
        assert XSS_DESCRIPTION in main.text, main.text
        assert not main.find_elements(By.TAG_NAME, "script")


# -- screenshots (before anything moves the served repository on) ----------------------------------------------------

def test_screenshots_of_every_page_at_desktop_and_phone_width(browser, open_server, auth_server, output_dir):
    first, _, third = open_server.repo.seed_commits
    shots = [
        ("overview", open_server, "/ui", "overview"),
        ("environment", open_server, "/ui/environments/production", "environment"),
        ("flag", open_server, "/ui/environments/production/flags/new-checkout", "flag"),
        ("flag-split", open_server, "/ui/environments/staging/flags/checkout-layout", "flag"),
        ("diff", open_server, f"/ui/diff?from={first}&to={third}", "diff"),
        ("login", auth_server, "/ui/login", "login"),
        ("subscriptions", auth_server, "/ui/subscriptions", "subscriptions"),
    ]
    written = []
    for name, server, path, page in shots:
        if page == "subscriptions":
            login(browser, auth_server, auth_server.admin_token)
        for width_name, size, phone in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
            harness.set_viewport(browser, size, phone=phone)
            open_page(browser, server, path, page)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= size[0], f"{name} at {width_name} width scrolls sideways ({width} > {size[0]} px)"
            file = output_dir / f"{name}-{width_name}.png"
            file.write_bytes(harness.full_page_png(browser, size))
            written.append(file)
        harness.reset_viewport(browser)
    harness.NOTES.append(f"{len(written)} screenshots of {len(shots)} pages at {DESKTOP[0]}×{DESKTOP[1]} and {PHONE[0]}×{PHONE[1]}")
    if os.environ.get("HALYARD_BROWSER_SCREENSHOTS") == "update":
        docs = harness.ROOT / "docs/screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output_dir / "overview-desktop.png", docs / "overview-desktop.png")
        shutil.copyfile(output_dir / "flag-phone.png", docs / "flag-phone.png")
        harness.NOTES.append(f"updated {docs}/overview-desktop.png and flag-phone.png")


# -- live updates ----------------------------------------------------------------------------------------------------

def test_live_pages_left_for_the_back_forward_cache_do_not_use_up_the_connections(open_server):
    """Chromium keeps up to six pages in its back/forward cache and, unless the page closes its `EventSource` on
    `pagehide`, their streams stay open: with HTTP/1.1's six connections per host used up, the seventh live page, the
    try form's fetch and every later page hang. This test uses a browser with the back/forward cache on (as every
    user's is; the other tests' drivers switch it off so that this one failure does not hang them all)."""
    browser = harness.make_driver(javascript=True, back_forward_cache=True)
    try:
        pages = [f"/ui/environments/{env}" for env in ("production", "staging", "development")]
        pages += [f"/ui/environments/{env}/flags/checkout-layout" for env in ("production", "staging", "development")]
        pages += ["/ui/environments/production/flags/new-checkout", "/ui/environments/production/flags/dark-mode"]
        browser.set_page_load_timeout(5)
        for number, path in enumerate(pages, start=1):
            try:
                open_page(browser, open_server, path, "environment" if path.count("/") == 3 else "flag")
            except TimeoutException:
                pytest.fail(f"live page {number} ({path}) did not load within 5 s: the pages left before it, kept in "
                            "the back/forward cache, still hold their SSE connections (console.js should close its "
                            "EventSource on pagehide and open it again on pageshow)")
        shown = submit_try_form(browser, open_server, "production", "search-page-size", {"platform": "ios"})
        assert shown["value"] == "20", shown
        browser.back()
        check_page(browser, open_server, "flag")
    finally:
        browser.quit()


def test_a_pushed_commit_appears_on_the_open_environment_page_within_two_seconds(browser, open_server):
    open_page(browser, open_server, "/ui/environments/development", "environment")
    browser.execute_script("window.__marker = 1")
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-flag="live-probe"]')

    repo = open_server.repo
    repo.write("flags/development/live-probe.json", json.dumps({
        "name": "Live probe", "description": "Added while the page was open.", "active": True,
        "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}]],
    }) + "\n")
    started = time.monotonic()
    commit = repo.commit("development: live-probe, committed while the page is open", author=("Ada Lovelace", "ada@example.com"))
    open_server.refresh()
    row = WebDriverWait(browser, 2).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '[data-test="flag"][data-flag="live-probe"]'),
        message="the new flag did not appear within 2 s")[0]
    elapsed = time.monotonic() - started
    harness.NOTES.append(f"a pushed commit appeared on the open environment page after {elapsed * 1000:.0f} ms")
    assert elapsed <= 2.0
    assert browser.execute_script("return window.__marker") == 1, "the page was reloaded"
    assert "enterprise" in text_of(row, '[data-test="flag-summary"]')
    assert not console_errors(browser)
    open_server.wait_for_commit(commit)

    repo.remove("flags/development/live-probe.json")
    removed = repo.commit("development: remove live-probe", author=("Ada Lovelace", "ada@example.com"))
    open_server.refresh()
    WebDriverWait(browser, 2).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-flag="live-probe"]'),
        message="the removed flag did not disappear within 2 s")
    assert browser.execute_script("return window.__marker") == 1, "the page was reloaded"
    open_server.wait_for_commit(removed)


# -- auth ------------------------------------------------------------------------------------------------------------

def test_with_tokens_every_page_redirects_to_the_login(any_browser, auth_server):
    for path in ("/ui", "/ui/environments/production", "/ui/environments/production/flags/new-checkout",
                 "/ui/diff", "/ui/subscriptions"):
        open_page(any_browser, auth_server, path, "login")
        assert urllib.parse.urlsplit(any_browser.current_url).path == "/ui/login", any_browser.current_url
    for path in ("/ui", "/ui/environments/production"):
        answer = auth_server.get(path, token="")
        assert answer.status in (302, 303, 307), (path, answer.status)
        assert urllib.parse.urlsplit(answer.headers["Location"]).path == "/ui/login", answer.headers["Location"]


def test_a_bad_token_shows_the_login_error(any_browser, auth_server):
    bad = "not-a-token-" + "x" * 20
    main = login(any_browser, auth_server, bad, expect="login", allow=STATUS_401_403)
    assert text_of(main, '[data-test="login-error"]')
    assert bad not in any_browser.current_url and bad not in any_browser.page_source, "the bad token is echoed"
    open_page(any_browser, auth_server, "/ui", "login")


def test_the_read_token_opens_the_read_pages_but_not_subscriptions(any_browser, auth_server):
    token = auth_server.read_tokens[0]
    login(any_browser, auth_server, token)
    cookies = any_browser.get_cookies()
    assert cookies, "no cookie after logging in"
    for cookie in cookies:
        assert cookie.get("httpOnly") is True, cookie
        assert cookie.get("sameSite") == "Strict", cookie
        assert cookie.get("path", "/").startswith("/"), cookie
    for path, page in (("/ui", "overview"), ("/ui/environments/staging", "environment"),
                       ("/ui/environments/staging/flags/checkout-layout", "flag"),
                       (f"/ui/diff?from={auth_server.repo.seed_commits[0]}&to={auth_server.repo.seed_commits[2]}", "diff")):
        open_page(any_browser, auth_server, path, page)
    shown = submit_try_form(any_browser, auth_server, "staging", "checkout-layout", {"targetingKey": "user-9"})
    assert shown["reason"] == auth_server.evaluate("staging", "checkout-layout", {"targetingKey": "user-9"})["reason"]

    any_browser.get_log("browser")
    any_browser.get(auth_server.base_url + "/ui/subscriptions")
    main = wait_for(any_browser, 'main[data-test="page"]')
    assert main.get_attribute("data-page") != "subscriptions"
    assert not any_browser.find_elements(By.CSS_SELECTOR, '[data-test="subscription"]')
    assert "403" in main.text or "admin" in main.text.lower(), main.text
    assert not console_errors(any_browser, allow=STATUS_401_403)
    assert_no_token_in_url(any_browser, auth_server)

    jar = "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in cookies)
    assert auth_server.get("/ui/subscriptions", token="", headers={"Cookie": jar}).status == 403
    assert auth_server.get("/ui/environments/staging", token="", headers={"Cookie": jar}).status == 200
    # The console cookie is no credential for the JSON routes, and a form post without its CSRF field is refused.
    assert auth_server.get("/v1/status", token="", headers={"Cookie": jar}).status == 401
    answer = auth_server.post("/ui/environments/staging/flags/checkout-layout/evaluate", token="",
                              headers={"Cookie": jar, "Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= answer.status < 500, answer.status


def test_the_admin_token_opens_subscriptions_and_logging_out_ends_the_session(any_browser, auth_server):
    login(any_browser, auth_server, auth_server.admin_token)
    main = open_page(any_browser, auth_server, "/ui/subscriptions", "subscriptions")
    subscriptions = main.find_elements(By.CSS_SELECTOR, '[data-test="subscription"]')
    assert [item.get_attribute("data-id") for item in subscriptions] == [auth_server.subscription_id]
    deliveries = subscriptions[0].find_elements(By.CSS_SELECTOR, '[data-test="delivery"]')
    assert deliveries, subscriptions[0].text
    assert "production" in deliveries[0].text, deliveries[0].text

    # An admin session is no credential for the JSON admin routes: a page elsewhere cannot make the browser refresh.
    jar = "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in any_browser.get_cookies())
    assert auth_server.post("/v1/refresh", token="", headers={"Cookie": jar}).status in (401, 403)
    assert auth_server.get("/v1/subscriptions", token="", headers={"Cookie": jar}).status in (401, 403)

    logout = any_browser.find_elements(By.CSS_SELECTOR, 'form[action$="/ui/logout"] [type="submit"]')
    assert logout, "no log-out button on a logged-in page"
    click_and_wait_for_the_next_page(any_browser, logout[0])
    check_page(any_browser, auth_server, "login", live=False)
    open_page(any_browser, auth_server, "/ui/subscriptions", "login")


# -- a rejected commit (last: it moves the served repository on) -----------------------------------------------------

def test_a_rejected_commit_shows_on_the_overview_with_every_error(any_browser, open_server, output_dir):
    repo = open_server.repo
    served = open_server.status()["commit"]
    repo.write("flags/production/broken-checkout.json", json.dumps({
        "name": "Broken checkout", "active": "yes",
        "rules": [[{"type": "filter", "attribute": "plan", "operator": "~=", "comparator": "enterprise"}]],
    }, indent=2) + "\n")
    repo.write("flags/staging/half-written.json", '{"name": "Half written", "active": true, "rules": [\n')
    rejected_commit = repo.commit("Add two broken flags", author=("Mallory Markup", "mallory@example.com"))
    try:
        open_server.refresh()
        rejected = open_server.wait_for_rejection(rejected_commit)
        errors = rejected["errors"]
        files = {error["file"] for error in errors}
        assert any("broken-checkout" in file for file in files) and any("half-written" in file for file in files), errors

        main = open_page(any_browser, open_server, "/ui", "overview")
        assert served[:7] in text_of(main, '[data-test="served-commit"]'), "the last good commit is no longer shown"
        rejection = main.find_element(By.CSS_SELECTOR, '[data-test="rejection"]')
        assert rejected_commit[:7] in rejection.text, rejection.text
        shown = [item.text for item in rejection.find_elements(By.CSS_SELECTOR, '[data-test="rejection-error"]')]
        assert len(shown) == len(errors), (shown, errors)
        for error in errors:
            assert any(error["file"] in line and error["pointer"] in line for line in shown), (error, shown)
        if any_browser.javascript:
            for size_name, size, phone in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
                harness.set_viewport(any_browser, size, phone=phone)
                open_page(any_browser, open_server, "/ui", "overview")
                (output_dir / f"overview-rejected-{size_name}.png").write_bytes(harness.full_page_png(any_browser, size))
            harness.reset_viewport(any_browser)
    finally:
        repo.remove("flags/production/broken-checkout.json")
        repo.remove("flags/staging/half-written.json")
        fixed = repo.commit("Remove the broken flags", author=("Ada Lovelace", "ada@example.com"))
        open_server.refresh()
        open_server.wait_for_commit(fixed)
    main = open_page(any_browser, open_server, "/ui", "overview")
    assert not main.find_elements(By.CSS_SELECTOR, '[data-test="rejection"]')

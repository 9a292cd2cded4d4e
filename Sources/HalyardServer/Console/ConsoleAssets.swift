//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// The console's one stylesheet and one script, compiled into the binary like ``ConsoleTemplates`` (and for the same
/// reason: an installed `halyard` is a single file). No build step and no external asset: the
/// `Content-Security-Policy` allows only this origin.
enum ConsoleAssets {
    /// `/ui/static/console.css`: system fonts, one column on a phone, cards side by side on a desktop. States carry a
    /// text label ("active", "inactive", "error"); colour only repeats it.
    static let stylesheet = """
        :root { --fg: #1d232a; --muted: #5b6570; --bg: #f6f7f9; --card: #fff; --line: #d9dee4; --good: #1f7a3a; --bad: #b3261e; --accent: #1b5fb5; }
        * { box-sizing: border-box; }
        body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
          font-size: 16px; line-height: 1.5; color: var(--fg); background: var(--bg); }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1rem; background: var(--fg); }
        header.top a { color: #fff; text-decoration: none; }
        header.top .brand { font-weight: 700; font-size: 1.1rem; }
        header.top nav { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
        header.top form.logout { margin: 0; }
        header.top button { font: inherit; background: none; border: 1px solid #fff; color: #fff; border-radius: 4px; padding: .1rem .6rem; cursor: pointer; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        footer.bottom { max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: var(--muted); font-size: .875rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.2rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
        h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
        a { color: var(--accent); }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: #eef1f4; padding: 0 .25em; border-radius: 3px; overflow-wrap: anywhere; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .9rem 1rem; margin: 0 0 1rem; }
        .cards, .flags { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem; grid-template-columns: 1fr; }
        .cards .card, .flags .card { margin: 0; }
        .side-by-side { display: grid; gap: 1rem; grid-template-columns: 1fr; }
        .card.current { border-color: var(--accent); }
        .meta, .crumbs, .name { color: var(--muted); font-size: .9rem; }
        .name { font-weight: 400; }
        .description { margin: .25rem 0; }
        .label { display: inline-block; font-size: .8rem; font-weight: 600; text-transform: uppercase; letter-spacing: .03em;
          border: 1px solid currentColor; border-radius: 3px; padding: 0 .35rem; vertical-align: middle; color: var(--muted); }
        .label.good, .status.good .label { color: var(--good); }
        .label.bad, .status.bad .label { color: var(--bad); }
        .status.bad { color: var(--bad); }
        .rejected { border-left: 4px solid var(--bad); }
        .errors li, .history li { margin: .35rem 0; overflow-wrap: anywhere; }
        .hint { color: var(--muted); }
        .rules { margin: .25rem 0 0; padding-left: 1.4rem; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; display: block; overflow-x: auto; }
        th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .35rem .5rem; }
        form.try, form.login { display: grid; gap: .5rem; max-width: 40rem; }
        textarea, input { font: inherit; width: 100%; padding: .4rem; border: 1px solid var(--line); border-radius: 4px; }
        textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
        button { font: inherit; justify-self: start; padding: .4rem 1rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        .diff-form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
        .diff-form label { display: grid; }
        .result { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        .result dd { margin: 0; }
        .metadata { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        .metadata dd { margin: 0; }
        .note { display: block; }
        details { margin: .25rem 0; }
        details > summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
        @media (min-width: 48rem) {
          .cards, .flags { grid-template-columns: repeat(2, 1fr); }
          .side-by-side { grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); }
          h1 { font-size: 2rem; }
        }
        @media (min-width: 72rem) { .cards { grid-template-columns: repeat(3, 1fr); } }

        """

    /// `/ui/static/favicon.svg`: a pennant on a halyard. Linked from every page, so that browsers do not ask for a
    /// missing `/favicon.ico` (a 404 in the console log).
    static let favicon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M3 1v14" stroke="#1d232a" stroke-width="1.5"/>\
        <path d="M4 2l9 3-9 3z" fill="#1b5fb5"/></svg>

        """

    /// `/ui/static/console.js`: live updates and the "try a context" form, both optional (every page works without
    /// it).
    ///
    /// On a page whose `<body>` names an environment (`data-live-env`), it listens to
    /// `/ui/environments/{env}/events` (the SSE stream, authorised by the console cookie), sets
    /// `document.body.dataset.live = "connected"` once the stream is open, and on each `flags-changed` event fetches
    /// the page again and replaces the content of `<main>`. It closes the stream when the page is hidden (a page in the
    /// back/forward cache would otherwise hold one of the browser's six connections to the host) and reopens it, with
    /// a refresh, when the page is shown again. The try form is sent with `fetch`, and the result part
    /// of the answer replaces `#try-output`.
    static let script = """
        "use strict";
        (function () {
          function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }

          function refresh() {
            return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (response) { return response.ok ? response.text() : null; })
              .then(function (html) {
                if (html === null) { return; }
                var fresh = parse(html).querySelector("main");
                var main = document.querySelector("main");
                if (fresh && main) {
                  var context = main.querySelector("textarea[name=context]");
                  var output = main.querySelector("#try-output");
                  var keptContext = context ? context.value : null;
                  var keptOutput = output ? output.innerHTML : null;
                  main.innerHTML = fresh.innerHTML;
                  var newContext = main.querySelector("textarea[name=context]");
                  if (newContext && keptContext !== null) { newContext.value = keptContext; }
                  var newOutput = main.querySelector("#try-output");
                  if (newOutput && keptOutput !== null) { newOutput.innerHTML = keptOutput; }
                  document.body.dataset.updated = String(Date.now());
                }
              })
              .catch(function () {});
          }

          var source = null;

          function listen(environment) {
            if (!window.EventSource || source) { return; }
            source = new EventSource("/ui/environments/" + encodeURIComponent(environment) + "/events");
            source.addEventListener("open", function () { document.body.dataset.live = "connected"; });
            source.addEventListener("error", function () { document.body.dataset.live = "reconnecting"; });
            source.addEventListener("flags-changed", refresh);
          }

          function stopListening() {
            if (source) { source.close(); source = null; }
            document.body.dataset.live = "closed";
          }

          // A page kept in the back/forward cache must not keep its stream: browsers allow six connections per host,
          // and six cached live pages would leave none for the next page. Reopen it, and catch up, when it comes back.
          window.addEventListener("pagehide", stopListening);
          window.addEventListener("pageshow", function (event) {
            var environment = document.body.getAttribute("data-live-env");
            if (event.persisted && environment) {
              listen(environment);
              refresh();
            }
          });

          document.addEventListener("submit", function (event) {
            var form = event.target;
            if (!form || form.getAttribute("data-test") !== "try-form" || !window.fetch) { return; }
            event.preventDefault();
            var body = new URLSearchParams(new FormData(form));
            fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (response) { return response.text(); })
              .then(function (html) {
                var fresh = parse(html).querySelector("#try-output");
                var output = document.querySelector("#try-output");
                if (output) {
                  output.innerHTML = fresh ? fresh.innerHTML : "<p class=\\"status bad\\" data-test=\\"try-error\\">the evaluation failed</p>";
                }
              })
              .catch(function () {});
          });

          document.addEventListener("DOMContentLoaded", function () {
            var environment = document.body.getAttribute("data-live-env");
            if (environment) { listen(environment); }
          });
        })();

        """
}

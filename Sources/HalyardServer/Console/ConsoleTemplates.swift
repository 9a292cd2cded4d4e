//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// The console's Mustache templates, compiled into the binary as string constants.
///
/// Why constants rather than SwiftPM resources: `Scripts/install` copies the `halyard` binary alone, and a resource
/// bundle is a separate directory that SwiftPM looks up beside the executable at run time, so an installed binary
/// without it would fail on the first page. Constants make the single binary complete.
///
/// Every template escapes what it shows with `{{ }}`; none uses `{{{ }}}`. Flag names, descriptions, metadata,
/// commit messages and error texts are untrusted (DESIGN §12). Rich text (code spans, bold) comes as segments that
/// the `inline` partial wraps in `<code>` or `<strong>`, each segment escaped. Hooks named `data-test` are the
/// contract with the browser tests (`CONSOLE.md`); styling never relies on them.
enum ConsoleTemplates {
    /// Every template by name; pages include `head` and `foot`.
    static let all: [String: String] = [
        "head": head, "foot": foot, "inline": inline,
        "overview": overview, "environment": environment, "flag": flag, "flagMain": flagMain, "diff": diff,
        "subscriptions": subscriptions, "login": login, "error": error,
    ]

    static let head = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Halyard</title>
        <link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/ui/static/console.css">
        <script src="/ui/static/console.js" defer></script>
        </head>
        <body{{#liveEnvironment}} data-live-env="{{liveEnvironment}}"{{/liveEnvironment}}>
        <header class="top">
        <a class="brand" href="/ui">Halyard</a>
        <nav>
        <a href="/ui">Overview</a>
        <a href="/ui/diff">Diff</a>
        {{#showSubscriptions}}<a href="/ui/subscriptions">Subscriptions</a>{{/showSubscriptions}}
        {{#loggedIn}}<form class="logout" method="post" action="/ui/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" data-test="logout">Log out</button></form>{{/loggedIn}}
        </nav>
        </header>
        <main data-test="page" data-page="{{page}}">
        """

    static let foot = """
        </main>
        <footer class="bottom">Halyard console · read-only: change flags through pull requests</footer>
        </body>
        </html>

        """

    /// Segments of rich text: `{text, code, strong}` each.
    static let inline = """
        {{#segments}}{{#code}}<code>{{text}}</code>{{/code}}{{^code}}{{#strong}}<strong>{{text}}</strong>{{/strong}}{{^strong}}{{text}}{{/strong}}{{/code}}{{/segments}}
        """

    static let overview = """
        {{> head}}
        <h1>Overview</h1>
        <section class="card" data-test="served-commit">
        <h2>Served commit</h2>
        {{#served}}
        <p><code class="sha" title="{{commit}}">{{short}}</code> <span class="subject">{{subject}}</span></p>
        <p class="meta">by <span class="author">{{author}}</span> on <time datetime="{{dateISO}}">{{date}}</time>{{#appliedAt}} · applied {{appliedAt}}{{/appliedAt}}</p>
        {{/served}}
        {{^served}}<p>No commit is served yet: the first commit has not been applied.</p>{{/served}}
        </section>
        <section class="card" data-test="fetch-status">
        <h2>Fetch status</h2>
        {{#fetchError}}<p class="status bad"><span class="label">error</span> {{fetchError}}</p>{{/fetchError}}
        {{^fetchError}}<p class="status good"><span class="label">ok</span> {{#lastFetchAt}}last fetch {{lastFetchAt}}{{/lastFetchAt}}{{^lastFetchAt}}no fetch yet{{/lastFetchAt}}</p>{{/fetchError}}
        {{#fetchError}}{{#lastFetchAt}}<p class="meta">last fetch {{lastFetchAt}}</p>{{/lastFetchAt}}{{/fetchError}}
        </section>
        {{#overrides}}<p class="status bad" data-test="override"><span class="label">override</span> <a href="{{href}}">{{environment}}/{{flag}}</a> {{setting}} until {{expiresAt}}: {{reason}} <code>{{id}}</code></p>
        {{/overrides}}
        {{#rejection}}
        <section class="card rejected" data-test="rejection">
        <h2><span class="label bad">rejected</span> Commit <code class="sha" title="{{commit}}">{{short}}</code> was not applied</h2>
        <p class="meta">{{#subject}}“{{subject}}” by {{author}} · {{/subject}}rejected {{at}} · {{errorCount}} error{{plural}}{{#truncated}} (the first {{shown}} are listed){{/truncated}}</p>
        <ol class="errors">
        {{#errors}}<li data-test="rejection-error"><code class="file">{{file}}</code> <code class="pointer">{{pointer}}</code>: {{message}}{{#hint}} <span class="hint">hint: {{hint}}</span>{{/hint}}</li>
        {{/errors}}
        </ol>
        </section>
        {{/rejection}}
        <section>
        <h2>Environments</h2>
        {{^environments}}<p>No environments yet.</p>{{/environments}}
        <ul class="cards">
        {{#environments}}<li class="card" data-test="environment" data-env="{{name}}">
        <h3><a href="{{href}}">{{name}}</a></h3>
        <p><span data-test="flag-count">{{flagCount}}</span> flag{{plural}}</p>
        {{#lastChange}}<p class="meta">last change <code class="sha" title="{{commit}}">{{short}}</code> {{subject}} · {{author}} · {{date}}</p>{{/lastChange}}
        </li>
        {{/environments}}
        </ul>
        </section>
        {{> foot}}
        """

    static let environment = """
        {{> head}}
        <p class="crumbs"><a href="/ui">Overview</a> › environment</p>
        <h1>{{environment}}</h1>
        <p class="meta">{{flagCount}} flag{{plural}} at <code class="sha">{{short}}</code></p>
        <ul class="flags">
        {{#flags}}<li class="card flag" data-test="flag" data-flag="{{id}}">
        <h2><a href="{{href}}">{{id}}</a>{{#showName}} <span class="name">{{name}}</span>{{/showName}} <span class="label {{stateClass}}" data-test="flag-state">{{state}}</span></h2>
        {{#description}}<p class="description">{{description}}</p>{{/description}}
        <p class="summary" data-test="flag-summary">{{#summary}}{{> inline}}{{/summary}}</p>
        <details><summary>Rules in words</summary><ul class="rules">{{#rules}}<li>{{> inline}}</li>{{/rules}}</ul></details>
        <p class="meta" data-test="flag-last-change">{{#lastChange}}last change <code class="sha" title="{{commit}}">{{short}}</code> {{change}} by {{author}} on {{date}}: {{subject}}{{/lastChange}}{{^lastChange}}last change unknown{{/lastChange}}</p>
        </li>
        {{/flags}}
        </ul>
        {{> foot}}
        """

    static let flag = """
        {{> head}}
        {{> flagMain}}
        {{> foot}}
        """

    static let flagMain = """
        <p class="crumbs"><a href="/ui">Overview</a> › <a href="{{environmentHref}}">{{environment}}</a> › flag</p>
        <h1>{{id}}{{#showName}} <span class="name">{{name}}</span>{{/showName}}</h1>
        {{#override}}<p class="status bad" data-test="override"><span class="label">override</span> {{setting}} until {{expiresAt}}: {{reason}} <code>{{id}}</code> (the committed flag returns when it ends)</p>{{/override}}
        {{#description}}<p class="description">{{description}}</p>{{/description}}
        {{#hasMetadata}}<dl class="metadata">{{#metadata}}<dt>{{key}}</dt><dd><code>{{value}}</code></dd>{{/metadata}}</dl>{{/hasMetadata}}
        <section>
        <h2>Environments</h2>
        <div class="side-by-side">
        {{#environments}}<article class="card{{#current}} current{{/current}}" data-test="flag-env" data-env="{{name}}">
        <h3><a href="{{href}}">{{name}}</a> <span class="label {{stateClass}}">{{state}}</span></h3>
        {{#present}}<p class="summary">{{#summary}}{{> inline}}{{/summary}}</p>
        <ul class="rules" data-test="rules">{{#rules}}<li>{{> inline}}</li>{{/rules}}</ul>{{/present}}
        {{^present}}<p>Not defined in this environment.</p>{{/present}}
        </article>
        {{/environments}}
        </div>
        </section>
        <section class="card">
        <h2>Try a context in {{environment}}</h2>
        <form method="post" action="{{evaluateHref}}" data-test="try-form" class="try">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="context">Context (a JSON object)</label>
        <textarea id="context" name="context" rows="4" spellcheck="false">{{contextText}}</textarea>
        <button type="submit" data-test="try-submit">Evaluate</button>
        </form>
        <div id="try-output" aria-live="polite">
        {{#tryError}}<p class="status bad" data-test="try-error"><span class="label">error</span> {{tryError}}</p>{{/tryError}}
        {{#tryResult}}<dl class="result" data-test="try-result">
        <dt>value</dt><dd><code data-test="try-value">{{value}}</code></dd>
        <dt>variant</dt><dd data-test="try-variant">{{variant}}</dd>
        <dt>reason</dt><dd data-test="try-reason">{{reason}}</dd>
        <dt>group</dt><dd data-test="try-group">{{group}}</dd>
        </dl>{{/tryResult}}
        </div>
        </section>
        <section>
        <h2>History in {{environment}}</h2>
        {{#historyError}}<p class="status bad">{{historyError}}</p>{{/historyError}}
        <ol class="history">
        {{#history}}<li data-test="history-entry"><code class="sha" title="{{commit}}">{{short}}</code> <span class="label">{{change}}</span> {{subject}} <span class="meta">· {{author}} · <time datetime="{{dateISO}}">{{date}}</time></span> <a data-test="history-diff" href="{{diffHref}}">diff</a></li>
        {{/history}}
        </ol>
        </section>
        """

    static let diff = """
        {{> head}}
        <p class="crumbs"><a href="/ui">Overview</a> › diff</p>
        <h1>Diff</h1>
        <form method="get" action="/ui/diff" class="diff-form">
        <label>from <input name="from" value="{{from}}" spellcheck="false"></label>
        <label>to <input name="to" value="{{to}}" spellcheck="false"></label>
        <button type="submit">Show</button>
        </form>
        {{#diffError}}<p class="status bad" data-test="diff-error"><span class="label">error</span> {{diffError}}</p>{{/diffError}}
        {{#report}}<section data-test="diff">
        <h2>Flag changes <code class="sha" title="{{fromFull}}">{{fromShort}}</code> → <code class="sha" title="{{toFull}}">{{toShort}}</code></h2>
        <p>{{#intro}}{{> inline}}{{/intro}}</p>
        {{#sections}}<h3>{{environment}}{{#warn}} <span class="label bad">⚠ changes production</span>{{/warn}}</h3>
        <table>
        <thead><tr><th>flag</th><th>change</th><th>what a reviewer should know</th></tr></thead>
        <tbody>
        {{#rows}}<tr><td><code>{{id}}</code></td><td>{{kind}}</td><td>{{#notes}}<span class="note">{{> inline}}</span> {{/notes}}</td></tr>
        {{/rows}}
        </tbody>
        </table>
        {{/sections}}
        </section>{{/report}}
        {{> foot}}
        """

    static let subscriptions = """
        {{> head}}
        <p class="crumbs"><a href="/ui">Overview</a> › subscriptions</p>
        <h1>Subscriptions</h1>
        {{^subscriptions}}<p>No subscriptions.</p>{{/subscriptions}}
        {{#subscriptions}}<section class="card" data-test="subscription" data-id="{{id}}">
        <h2><code>{{url}}</code> <span class="label {{stateClass}}">{{state}}</span>{{#isStatic}} <span class="label">static</span>{{/isStatic}}</h2>
        <p class="meta">id {{id}} · environments: {{environments}} · <span data-test="pending">{{pending}}</span> pending message{{plural}}</p>
        {{^deliveries}}<p>No deliveries yet.</p>{{/deliveries}}
        {{#hasDeliveries}}<table>
        <thead><tr><th>at</th><th>environment</th><th>commit</th><th>attempt</th><th>status</th><th>result</th></tr></thead>
        <tbody>
        {{#deliveries}}<tr data-test="delivery"><td>{{at}}</td><td>{{environment}}</td><td><code>{{short}}</code></td><td>{{attempt}}</td><td>{{status}}</td><td>{{result}}{{#error}} · {{error}}{{/error}}</td></tr>
        {{/deliveries}}
        </tbody>
        </table>{{/hasDeliveries}}
        </section>
        {{/subscriptions}}
        {{> foot}}
        """

    static let login = """
        {{> head}}
        <h1>Log in</h1>
        {{#open}}<p>No tokens are configured: the console is open. <a href="/ui">Go to the overview</a>.</p>{{/open}}
        {{#loginError}}<p class="status bad" data-test="login-error"><span class="label">error</span> {{loginError}}</p>{{/loginError}}
        <form method="post" action="/ui/login" data-test="login-form" class="login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        <input type="text" name="username" value="halyard" autocomplete="username" hidden>
        <label for="token">Token (a read token, or the admin token)</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required>
        <button type="submit" data-test="login-submit">Log in</button>
        </form>
        {{> foot}}
        """

    static let error = """
        {{> head}}
        <h1>{{heading}}</h1>
        <p class="status bad" data-test="error"><span class="label">{{code}}</span> {{message}}</p>
        <p><a href="/ui">Back to the overview</a></p>
        {{> foot}}
        """
}

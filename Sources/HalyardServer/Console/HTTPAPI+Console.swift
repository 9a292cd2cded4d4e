//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardNotify
import HalyardRules
import HalyardSync
import Hummingbird
import NIOCore

/// The web console under `/ui` (DESIGN §12): read-only pages rendered on the server, a login form, the "try a
/// context" form and an SSE stream for live updates. The paths and `data-test` hooks are the contract with the
/// browser tests (`CONSOLE.md`).
extension HTTPAPI {
    func addConsoleRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.get("/ui/static/console.css") { _, _ in
            ConsoleRenderer.asset(ConsoleAssets.stylesheet, contentType: "text/css; charset=utf-8")
        }
        routes.get("/ui/static/console.js") { _, _ in
            ConsoleRenderer.asset(ConsoleAssets.script, contentType: "text/javascript; charset=utf-8")
        }
        routes.get("/ui/static/favicon.svg") { _, _ in
            ConsoleRenderer.asset(ConsoleAssets.favicon, contentType: "image/svg+xml")
        }
        routes.get("/ui/login") { request, _ in
            let visitor = self.consoleVisitor(request)
            return self.loginPage(request, visitor: visitor, next: request.uri.queryParameters["next"].map(String.init))
        }
        routes.post("/ui/login") { request, _ in try await self.login(request) }
        routes.post("/ui/logout") { request, _ in try await self.logout(request) }
        routes.get("/ui") { request, _ in
            try await self.readPage(request) { visitor in await self.overviewPage(visitor) }
        }
        routes.get("/ui/environments/{env}") { request, context in
            try await self.readPage(request) { visitor in try await self.environmentPage(context, visitor: visitor) }
        }
        routes.get("/ui/environments/{env}/flags/{id}") { request, context in
            try await self.readPage(request) { visitor in try await self.flagPage(context, visitor: visitor, trial: nil) }
        }
        routes.post("/ui/environments/{env}/flags/{id}/evaluate") { request, context in
            try await self.tryContext(request, context: context)
        }
        routes.get("/ui/environments/{env}/events") { request, context in
            try await self.consoleEvents(request, context: context)
        }
        routes.get("/ui/diff") { request, _ in
            try await self.readPage(request) { visitor in
                await self.diffPage(
                    visitor,
                    from: request.uri.queryParameters["from"].map(String.init),
                    to: request.uri.queryParameters["to"].map(String.init)
                )
            }
        }
        routes.get("/ui/subscriptions") { request, _ in try await self.subscriptionsPage(request) }
    }

    // MARK: - Page plumbing

    /// A page the page builder made: its template, its data and its status.
    struct ConsolePage {
        var template: String
        var page: String
        var title: String
        var data: [String: Any]
        var status: HTTPResponse.Status = .ok
    }

    /// A console failure shown as an HTML page rather than JSON.
    struct ConsolePageError: Error {
        var status: HTTPResponse.Status
        var heading: String
        var message: String
    }

    /// Renders a read page for a visitor allowed to read, or sends the visitor to the login form.
    private func readPage(_ request: Request, build: (ConsoleVisitor) async throws -> ConsolePage) async throws -> Response {
        let visitor = consoleVisitor(request)
        guard consoleMayRead(visitor) else { return consoleLoginRedirect(request) }
        do {
            return respond(try await build(visitor), visitor: visitor, request: request)
        } catch let error as ConsolePageError {
            return errorPage(error, visitor: visitor, request: request)
        }
    }

    /// The response for a built page.
    func respond(_ page: ConsolePage, visitor: ConsoleVisitor, request: Request) -> Response {
        var data = page.data
        data["page"] = page.page
        data["title"] = page.title
        data["csrf"] = visitor.csrfToken
        if visitor.session != nil { data["loggedIn"] = true }
        if visitor.role == .admin { data["showSubscriptions"] = true }
        let text = ConsoleRenderer.render(page.template, data)
        return ConsoleRenderer.html(text, status: page.status, headers: consoleCookies(for: visitor, request: request))
    }

    /// An error page.
    func errorPage(_ error: ConsolePageError, visitor: ConsoleVisitor, request: Request) -> Response {
        respond(
            ConsolePage(
                template: "error",
                page: "error",
                title: error.heading,
                data: ["heading": error.heading, "code": String(error.status.code), "message": error.message],
                status: error.status
            ),
            visitor: visitor,
            request: request
        )
    }

    /// The served state, or a 503 page.
    private func consoleState() throws(ConsolePageError) -> ServedState {
        guard let state = store.current else {
            throw ConsolePageError(
                status: .serviceUnavailable,
                heading: "Not ready",
                message: "no flags loaded yet: the first commit has not been applied"
            )
        }
        return state
    }

    /// The environment named in the path, or a 404 page.
    private func consoleEnvironment(_ context: BasicRequestContext, in state: ServedState) throws(ConsolePageError) -> EnvironmentSnapshot {
        let name = context.parameters.get("env") ?? ""
        guard let environment = state.snapshot.environments[name] else {
            throw ConsolePageError(status: .notFound, heading: "Not found", message: "unknown environment \"\(name)\"")
        }
        return environment
    }

    private static func environmentHref(_ name: String) -> String { "/ui/environments/" + ConsoleText.urlEncode(name) }

    private static func flagHref(_ environment: String, _ id: String) -> String {
        environmentHref(environment) + "/flags/" + ConsoleText.urlEncode(id)
    }

    private static func plural(_ count: Int) -> String { count == 1 ? "" : "s" }

    /// A break-glass override in effect, for the overview and the flag page.
    private static func overrideData(_ override: FlagOverride) -> [String: Any] {
        let setting: String
        switch override.setting {
        case .active(let active): setting = "active=\(active)"
        case .variant(let name): setting = "variant=\(name)"
        }
        return [
            "id": override.id, "environment": override.environment, "flag": override.flag, "setting": setting,
            "expiresAt": ConsoleText.date(override.expiresAt) ?? "", "reason": override.reason,
        ]
    }

    /// A commit's fields for the templates.
    private static func commitData(_ commit: RepositoryBrowser.CommitSummary) -> [String: Any] {
        [
            "commit": commit.commit, "short": ConsoleText.short(commit.commit), "author": commit.author, "subject": commit.subject,
            "date": ConsoleText.date(commit.date) ?? "", "dateISO": ConsoleText.isoDate(commit.date),
        ]
    }

    private static func stateData(_ flag: Flag) -> [String: Any] {
        ["state": flag.active ? "active" : "inactive", "stateClass": flag.active ? "good" : ""]
    }

    // MARK: - Overview

    private func overviewPage(_ visitor: ConsoleVisitor) async -> ConsolePage {
        let state = store.current
        let status = store.status
        var data: [String: Any] = [:]
        if let state {
            var served: [String: Any] = ["commit": state.commit, "short": ConsoleText.short(state.commit), "subject": "", "author": "unknown"]
            if let commit = await repositoryBrowser?.commit(state.commit) { served.merge(Self.commitData(commit)) { $1 } }
            served["appliedAt"] = ConsoleText.date(state.appliedAt)
            data["served"] = served
            var environments: [[String: Any]] = []
            for name in state.snapshot.environmentNames {
                let environment = state.snapshot.environments[name]!
                var item: [String: Any] = [
                    "name": name, "href": Self.environmentHref(name), "flagCount": environment.flags.count,
                    "plural": Self.plural(environment.flags.count),
                ]
                if let last = state.lastChange[name] {
                    var change: [String: Any] = ["commit": last, "short": ConsoleText.short(last)]
                    if let commit = await repositoryBrowser?.commit(last) { change.merge(Self.commitData(commit)) { $1 } }
                    item["lastChange"] = change
                }
                environments.append(item)
            }
            data["environments"] = environments
        }
        if let overrides = self.overrides?.overridesInEffect, !overrides.isEmpty {
            data["overrides"] = overrides.map { override -> [String: Any] in
                var item = Self.overrideData(override)
                item["href"] = Self.flagHref(override.environment, override.flag)
                return item
            }
        }
        if let error = status.lastFetchError { data["fetchError"] = error }
        if let at = ConsoleText.date(status.lastFetchAt) { data["lastFetchAt"] = at }
        if let rejected = status.rejected {
            var rejection: [String: Any] = [
                "commit": rejected.commit, "short": ConsoleText.short(rejected.commit), "at": ConsoleText.date(rejected.at) ?? "",
                "errorCount": rejected.errorCount, "plural": Self.plural(rejected.errorCount), "shown": rejected.errors.count,
                "truncated": rejected.errors.count < rejected.errorCount,
                "errors": rejected.errors.map { diagnostic -> [String: Any] in
                    var item: [String: Any] = ["file": diagnostic.file, "pointer": diagnostic.pointer, "message": diagnostic.message]
                    if let hint = diagnostic.hint { item["hint"] = hint }
                    return item
                },
            ]
            if let commit = await repositoryBrowser?.commit(rejected.commit) {
                rejection["subject"] = commit.subject
                rejection["author"] = commit.author
            }
            data["rejection"] = rejection
        }
        return ConsolePage(template: "overview", page: "overview", title: "Overview", data: data)
    }

    // MARK: - Environment

    private func environmentPage(_ context: BasicRequestContext, visitor: ConsoleVisitor) async throws -> ConsolePage {
        let state = try consoleState()
        let environment = try consoleEnvironment(context, in: state)
        let lastChanges = await repositoryBrowser?.lastChanges(environment: environment.name, from: state.commit) ?? [:]
        let flags: [[String: Any]] = environment.sortedIDs.map { id in
            let flag = environment.flags[id]!.flag
            var item: [String: Any] = [
                "id": id, "name": flag.name, "showName": flag.name != id, "href": Self.flagHref(environment.name, id),
                "summary": ConsoleText.segments(FlagDescription.summary(flag)),
                "rules": FlagDescription.rules(flag).map(ConsoleText.segments),
            ]
            item.merge(Self.stateData(flag)) { $1 }
            if !flag.description.isEmpty { item["description"] = flag.description }
            if let entry = lastChanges[id] {
                item["lastChange"] =
                    [
                        "commit": entry.commit, "short": ConsoleText.short(entry.commit), "author": entry.author, "subject": entry.subject,
                        "date": ConsoleText.date(entry.date) ?? "", "change": entry.change.rawValue,
                    ] as [String: Any]
            }
            return item
        }
        return ConsolePage(
            template: "environment",
            page: "environment",
            title: environment.name,
            data: [
                "environment": environment.name, "liveEnvironment": environment.name, "flags": flags,
                "flagCount": flags.count, "plural": Self.plural(flags.count), "short": ConsoleText.short(state.commit),
            ]
        )
    }

    // MARK: - Flag

    /// The outcome of the "try a context" form: the answer, or what was wrong with the context.
    struct Trial {
        var contextText: String
        var result: [String: Any]?
        var error: String?
    }

    private func flagPage(_ context: BasicRequestContext, visitor: ConsoleVisitor, trial: Trial?) async throws -> ConsolePage {
        let state = try consoleState()
        let environment = try consoleEnvironment(context, in: state)
        let id = context.parameters.get("id") ?? ""
        guard let flag = environment.flags[id]?.flag else {
            throw ConsolePageError(status: .notFound, heading: "Not found", message: "unknown flag \"\(id)\" in environment \"\(environment.name)\"")
        }
        var data: [String: Any] = [
            "id": id, "name": flag.name, "showName": flag.name != id, "environment": environment.name,
            "liveEnvironment": environment.name, "environmentHref": Self.environmentHref(environment.name),
            "evaluateHref": Self.flagHref(environment.name, id) + "/evaluate", "contextText": trial?.contextText ?? "{}",
        ]
        if let override = self.overrides?.overridesInEffect.first(where: { $0.environment == environment.name && $0.flag == id }) {
            data["override"] = Self.overrideData(override)
        }
        if !flag.description.isEmpty { data["description"] = flag.description }
        let metadata = flag.metadata.keys.sorted().map { key -> [String: Any] in ["key": key, "value": flag.metadata[key]!.jsonText] }
        data["metadata"] = metadata
        data["hasMetadata"] = !metadata.isEmpty
        data["environments"] = state.snapshot.environmentNames.map { name -> [String: Any] in
            var item: [String: Any] = ["name": name, "href": Self.flagHref(name, id), "current": name == environment.name]
            if let other = state.snapshot.environments[name]?.flag(id) {
                item["present"] = true
                item["summary"] = ConsoleText.segments(FlagDescription.summary(other))
                item["rules"] = FlagDescription.rules(other).map(ConsoleText.segments)
                item.merge(Self.stateData(other)) { $1 }
            } else {
                item["present"] = false
                item["state"] = "absent"
                item["stateClass"] = ""
            }
            return item
        }
        if let trial {
            if let result = trial.result { data["tryResult"] = result }
            if let error = trial.error { data["tryError"] = error }
        }
        if let repositoryBrowser {
            do throws(BrowseError) {
                let items = try await repositoryBrowser.history(environment: environment.name, flag: id, from: state.commit, limit: 50)
                data["history"] = items.map { item -> [String: Any] in
                    let entry = item.entry
                    return [
                        "commit": entry.commit, "short": ConsoleText.short(entry.commit), "author": entry.author, "subject": entry.subject,
                        "date": ConsoleText.date(entry.date) ?? "", "dateISO": ConsoleText.isoDate(entry.date), "change": entry.change.rawValue,
                        "diffHref": "/ui/diff?from=" + (item.parent ?? "") + "&to=" + entry.commit,
                    ]
                }
            } catch {
                data["historyError"] = error.message
            }
        } else {
            data["historyError"] = "history is not available in this server"
        }
        return ConsolePage(
            template: "flag",
            page: "flag",
            title: "\(id) in \(environment.name)",
            data: data,
            status: trial?.error == nil ? .ok : .badRequest
        )
    }

    /// `POST /ui/environments/{env}/flags/{id}/evaluate`: the flag page with the answer for a context.
    ///
    /// The context is decoded by ``EvaluateRequest`` with the limits of `/evaluate`, and the flag is resolved with the
    /// same calls the `/evaluate` route makes (`Flag.resolve`, then the value, variant and reason of that resolution),
    /// so the form gives exactly what `POST /evaluate` with `"details": true` gives, plus the matching group.
    private func tryContext(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let visitor = consoleVisitor(request)
        guard consoleMayRead(visitor) else { return consoleLoginRedirect(request) }
        let body = try await collectContextBody(request)
        let form = ConsoleText.formFields(String(buffer: body))
        guard consoleCSRFIsValid(request, visitor: visitor, form: form) else {
            return errorPage(
                ConsolePageError(
                    status: .forbidden,
                    heading: "Forbidden",
                    message: "the form's CSRF token is missing or wrong: reload the page and try again"
                ),
                visitor: visitor,
                request: request
            )
        }
        let text = form["context"] ?? ""
        var trial = Trial(contextText: text)
        do throws(APIError) {
            if let state = store.current,
                let flag = state.snapshot.environments[context.parameters.get("env") ?? ""]?.flag(context.parameters.get("id") ?? "")
            {
                trial.result = try Self.evaluateForConsole(flag, contextText: text, limits: configuration.limits)
            }
        } catch {
            trial.error = error.message
        }
        do {
            return respond(try await flagPage(context, visitor: visitor, trial: trial), visitor: visitor, request: request)
        } catch let error as ConsolePageError {
            return errorPage(error, visitor: visitor, request: request)
        }
    }

    /// The answer for one flag and a context given as JSON text: `value` (JSON text), `variant`, `reason` and `group`
    /// (numbered from 1, empty when no group decided).
    static func evaluateForConsole(_ flag: Flag, contextText: String, limits: HTTPLimits) throws(APIError) -> [String: Any] {
        let trimmed = contextText.drop { $0.isWhitespace }
        let attributes: [String: JSONValue]
        if trimmed.isEmpty {
            attributes = [:]
        } else {
            let fields = try jsonObject(ByteBuffer(string: contextText), maximumDepth: limits.jsonNesting)
            attributes = try EvaluateRequest(fields: ["context": .object(fields), "details": .bool(true)], limits: limits).attributes
        }
        let resolution = flag.resolve(EvaluationContext(attributes))
        var value = JSONWriter(capacity: 64)
        if flag.isTyped { value.json(flag.value(of: resolution)) } else { value.bool(flag.bool(of: resolution)) }
        return [
            "value": value.text, "variant": flag.variant(of: resolution), "reason": resolution.reason.rawValue,
            "group": resolution.matchedGroup.map { String($0 + 1) } ?? "",
        ]
    }

    /// `GET /ui/environments/{env}/events`: the environment's SSE stream for the console's script, authorised by the
    /// console cookie (an `EventSource` cannot send an `Authorization` header). Events are those of
    /// `/v1/environments/{env}/stream`; there is no catch-up, the script reloads on any event.
    private func consoleEvents(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let visitor = consoleVisitor(request)
        guard consoleMayRead(visitor) else { throw APIError.unauthorized("log in at /ui/login first") }
        let state = try servedState()
        let environment = try self.environment(context, in: state)
        let admission = try admitStream()
        var headers = ConsoleRenderer.securityHeaders
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                defer { admission.release() }
                try await self.runEventStream(
                    environment: environment.name,
                    request: request,
                    into: &writer,
                    catchUp: { nil },
                    render: { _, bytes in bytes }
                )
            }
        )
    }

    // MARK: - Diff

    private func diffPage(_ visitor: ConsoleVisitor, from: String?, to: String?) async -> ConsolePage {
        var data: [String: Any] = ["from": from ?? "", "to": to ?? ""]
        var status = HTTPResponse.Status.ok
        if let to, !to.isEmpty {
            if let repositoryBrowser {
                do throws(BrowseError) {
                    let report = try await repositoryBrowser.diff(from: from ?? "", to: to)
                    data["report"] = Self.reportData(report)
                } catch {
                    data["diffError"] = error.message
                    status = error.kind == .unknownRevision ? .notFound : .badRequest
                }
            } else {
                data["diffError"] = "diffs are not available in this server"
            }
        } else if from != nil {
            data["diffError"] = "give both revisions: from and to"
            status = .badRequest
        }
        return ConsolePage(template: "diff", page: "diff", title: "Diff", data: data, status: status)
    }

    private static func reportData(_ report: DiffReport) -> [String: Any] {
        let intro: String
        if report.sections.isEmpty {
            intro = "No flag changes. Nothing will be published."
        } else if report.effectiveEnvironments.isEmpty {
            intro = "Metadata only: no subscriber will be called."
        } else {
            intro = "Subscribers of **\(report.effectiveEnvironments.joined(separator: ", "))** will be called to refresh."
        }
        return [
            "fromFull": report.from, "fromShort": report.from.isEmpty ? "(nothing)" : ConsoleText.short(report.from),
            "toFull": report.to, "toShort": ConsoleText.short(report.to), "intro": ConsoleText.segments(intro),
            "sections": report.sections.map { section -> [String: Any] in
                [
                    "environment": section.environment, "warn": section.environment == "production" && section.isEffective,
                    "rows": section.rows.map { row -> [String: Any] in
                        ["id": row.id, "kind": row.kind.rawValue, "notes": row.notes.map(ConsoleText.segments)]
                    },
                ]
            },
        ]
    }

    // MARK: - Subscriptions

    private func subscriptionsPage(_ request: Request) async throws -> Response {
        let visitor = consoleVisitor(request)
        guard adminToken != nil else {
            return errorPage(
                ConsolePageError(status: .forbidden, heading: "Forbidden", message: "admin pages are disabled: set auth.adminToken"),
                visitor: visitor,
                request: request
            )
        }
        switch visitor.role {
        case nil:
            return consoleLoginRedirect(request)
        case .read?:
            return errorPage(
                ConsolePageError(status: .forbidden, heading: "Forbidden", message: "this page needs the admin token: log in with it"),
                visitor: visitor,
                request: request
            )
        case .admin?:
            break
        }
        let subscriptions = try await notify { try await self.database.subscriptions() }
        var items: [[String: Any]] = []
        for subscription in subscriptions {
            var pending: Int?
            if let outbox = self.database as? any OutboxStore {
                pending = try await notify { try await outbox.pendingMessages(subscriptionID: subscription.id) }.count
            }
            let deliveries = try await notify { try await self.database.deliveries(subscriptionID: subscription.id, limit: 10) }
            items.append([
                "id": subscription.id, "url": subscription.url, "environments": subscription.environments.joined(separator: ", "),
                "state": subscription.disabled ? "disabled" : "active", "stateClass": subscription.disabled ? "bad" : "good",
                "isStatic": subscription.isStatic, "pending": pending.map(String.init) ?? "unknown", "plural": Self.plural(pending ?? 0),
                "hasDeliveries": !deliveries.isEmpty,
                "deliveries": deliveries.map { attempt -> [String: Any] in
                    var item: [String: Any] = [
                        "at": ConsoleText.date(attempt.at) ?? "", "environment": attempt.environment, "short": ConsoleText.short(attempt.commit),
                        "attempt": attempt.attempt, "status": attempt.status.map(String.init) ?? "—", "result": attempt.result,
                    ]
                    if let error = attempt.error { item["error"] = error }
                    return item
                },
            ])
        }
        return respond(
            ConsolePage(template: "subscriptions", page: "subscriptions", title: "Subscriptions", data: ["subscriptions": items]),
            visitor: visitor,
            request: request
        )
    }

    // MARK: - Login

    private func loginPage(_ request: Request, visitor: ConsoleVisitor, next: String?, error: String? = nil) -> Response {
        var data: [String: Any] = ["next": Self.consoleNext(next), "open": !consoleHasTokens]
        if let error { data["loginError"] = error }
        return respond(
            ConsolePage(template: "login", page: "login", title: "Log in", data: data, status: error == nil ? .ok : .unauthorized),
            visitor: visitor,
            request: request
        )
    }

    /// `POST /ui/login`: checks the token (constant time) and the CSRF field, starts a session and sets its cookie.
    private func login(_ request: Request) async throws -> Response {
        let visitor = consoleVisitor(request)
        let form = ConsoleText.formFields(String(buffer: try await collectBody(request, limit: 16 << 10)))
        guard consoleCSRFIsValid(request, visitor: visitor, form: form) else {
            var page = loginPage(request, visitor: visitor, next: form["next"], error: "the form expired or came from another site: try again")
            page.status = .forbidden
            return page
        }
        guard let token = form["token"], !token.isEmpty, let role = role(ofToken: token) else {
            return loginPage(request, visitor: visitor, next: form["next"], error: "that token is not valid here")
        }
        if let old = visitor.session { consoleSessions.end(id: old.id) }
        let session = consoleSessions.start(role: role)
        return ConsoleRenderer.redirect(
            to: Self.consoleNext(form["next"]),
            headers: HTTPFields([
                consoleCookie(Self.sessionCookie, session.id, request: request),
                consoleCookie(Self.csrfCookie, "", request: request, clear: true),
            ])
        )
    }

    /// `POST /ui/logout`: ends the session (CSRF-checked) and clears its cookie.
    private func logout(_ request: Request) async throws -> Response {
        let visitor = consoleVisitor(request)
        let form = ConsoleText.formFields(String(buffer: try await collectBody(request, limit: 16 << 10)))
        guard consoleCSRFIsValid(request, visitor: visitor, form: form) else {
            return errorPage(
                ConsolePageError(
                    status: .forbidden,
                    heading: "Forbidden",
                    message: "the form's CSRF token is missing or wrong: reload the page and try again"
                ),
                visitor: visitor,
                request: request
            )
        }
        if let session = visitor.session { consoleSessions.end(id: session.id) }
        return ConsoleRenderer.redirect(
            to: "/ui/login",
            headers: HTTPFields([consoleCookie(Self.sessionCookie, "", request: request, clear: true)])
        )
    }
}

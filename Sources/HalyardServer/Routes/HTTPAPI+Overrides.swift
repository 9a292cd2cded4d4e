//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardRules
import HalyardSync
import Hummingbird
import NIOCore

/// The admin routes of break-glass overrides (DESIGN §14): create one, list those in effect or all of them (the audit
/// list), read one, end one early, and get the patch of the flag file that makes one permanent.
extension HTTPAPI {
    func addOverrideRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        // Each route's work is a method of its own, compiled without optimization (`@_optimize(none)`): the optimized
        // build of these async functions crashed the compiler (Swift 6.3.1, signal 11 in LLVM's coroutine splitting,
        // `emitSetAndGetSwiftErrorValueAround`). They are admin routes, called a few times a day.
        routes.post("/v1/overrides") { request, _ in try await self.createOverride(request) }
        routes.get("/v1/overrides") { request, _ in try await self.listOverrides(request) }
        routes.get("/v1/overrides/{id}") { request, context in try await self.showOverride(request, context) }
        routes.delete("/v1/overrides/{id}") { request, context in try await self.endOverride(request, context) }
        routes.get("/v1/overrides/{id}/patch") { request, context in try await self.overridePatch(request, context) }
    }

    /// `POST /v1/overrides`: 201 with the override and its `Location`.
    @_optimize(none)
    private func createOverride(_ request: Request) async throws -> Response {
        try authorizeAdmin(request)
        let watcher = try overrideWatcher()
        let body = try await jsonObjectBody(request)
        let parsed = try OverrideRequest(body)
        let override: FlagOverride
        do {
            override = try await watcher.createOverride(
                environment: parsed.environment,
                flag: parsed.flag,
                setting: parsed.setting,
                reason: parsed.reason,
                expiresIn: parsed.expiresIn
            )
        } catch let error as OverrideError {
            throw Self.apiError(error)
        }
        return json(status: .created, headers: [.location: "/v1/overrides/\(override.id)"]) { json in
            json.flagOverride(override)
        }
    }

    /// `GET /v1/overrides`: those in effect, or with `?all=true` the audit list.
    @_optimize(none)
    private func listOverrides(_ request: Request) async throws -> Response {
        try authorizeAdmin(request)
        let watcher = try overrideWatcher()
        let all: Bool
        switch request.uri.queryParameters.get("all") {
        case nil, "false": all = false
        case "true": all = true
        case let other?: throw APIError.badRequest("all must be true or false, not \"\(other)\"")
        }
        let overrides: [FlagOverride]
        if all {
            do {
                overrides = try await watcher.allOverrides()
            } catch let error as OverrideError {
                throw Self.apiError(error)
            }
        } else {
            overrides = watcher.overridesInEffect
        }
        return json { json in
            json.objectStart()
            json.key("overrides")
            json.arrayStart()
            for override in overrides {
                json.flagOverride(override)
            }
            json.arrayEnd()
            json.objectEnd()
        }
    }

    /// `GET /v1/overrides/{id}`.
    @_optimize(none)
    private func showOverride(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorizeAdmin(request)
        let override = try await existingOverride(context)
        return json { json in json.flagOverride(override) }
    }

    /// `DELETE /v1/overrides/{id}`: ends it early.
    @_optimize(none)
    private func endOverride(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorizeAdmin(request)
        let watcher = try overrideWatcher()
        let id = context.parameters.get("id") ?? ""
        let ended: FlagOverride
        do {
            ended = try await watcher.endOverride(id: id)
        } catch let error as OverrideError {
            throw Self.apiError(error)
        }
        return json { json in json.flagOverride(ended) }
    }

    /// `GET /v1/overrides/{id}/patch`: the unified diff that makes it permanent.
    @_optimize(none)
    private func overridePatch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorizeAdmin(request)
        let watcher = try overrideWatcher()
        let override = try await existingOverride(context)
        let patch: FlagFilePatch
        do {
            patch = try await watcher.patch(for: override)
        } catch let error as OverrideError {
            throw Self.apiError(error)
        }
        var buffer = ByteBuffer()
        buffer.writeString(patch.unifiedDiff)
        return Response(status: .ok, headers: [.contentType: "text/x-diff; charset=utf-8"], body: .init(byteBuffer: buffer))
    }

    /// The watcher that keeps overrides, or 404 when this server has none (a bare API in tests).
    private func overrideWatcher() throws(APIError) -> FlagWatcher {
        guard let overrides, overrides.supportsOverrides else {
            throw APIError.notFound("overrides are not available on this server")
        }
        return overrides
    }

    @_optimize(none)
    private func existingOverride(_ context: BasicRequestContext) async throws -> FlagOverride {
        let watcher = try overrideWatcher()
        let id = context.parameters.get("id") ?? ""
        let override: FlagOverride?
        do {
            override = try await watcher.override(id: id)
        } catch let error as OverrideError {
            throw Self.apiError(error)
        }
        guard let override else {
            throw APIError.notFound("override \"\(id)\" not found")
        }
        return override
    }

    /// The HTTP answer to an ``OverrideError``.
    private static func apiError(_ error: OverrideError) -> APIError {
        switch error.kind {
        case .badRequest: APIError.badRequest(error.message)
        case .notFound: APIError.notFound(error.message)
        case .conflict: APIError.conflict(error.message)
        case .notReady: APIError.notReady
        case .store: APIError(.internalServerError, error.message)
        }
    }
}

/// The body of `POST /v1/overrides`, checked field by field.
struct OverrideRequest {
    var environment: String
    var flag: String
    var setting: FlagOverride.Setting
    var reason: String
    var expiresIn: OverrideDuration

    init(_ body: [String: JSONValue]) throws(APIError) {
        let known: Set<String> = ["environment", "flag", "active", "variant", "reason", "expiresIn"]
        if let unknown = body.keys.sorted().first(where: { !known.contains($0) }) {
            throw .badRequest("unknown field \"\(unknown)\"; an override takes environment, flag, active or variant, reason and expiresIn")
        }
        environment = try Self.string(body, "environment", "the environment name")
        flag = try Self.string(body, "flag", "the flag id")
        switch (body["active"], body["variant"]) {
        case (nil, nil):
            throw .badRequest("give either active (true or false) or variant (a typed flag's variant name)")
        case (.some, .some):
            throw .badRequest("give either active or variant, not both")
        case (.bool(let value)?, nil):
            setting = .active(value)
        case (let other?, nil):
            throw .badRequest("active must be true or false, not \(other.typeDescription)")
        case (nil, .string(let name)?) where !name.isEmpty:
            setting = .variant(name)
        case (nil, let other?):
            throw .badRequest("variant must be a variant name (a non-empty string), not \(other.typeDescription)")
        }
        guard case .string(let reason)? = body["reason"] else {
            throw .badRequest("reason is required: a string of 1 to 500 characters saying why the flag is overridden")
        }
        guard !reason.allSatisfy(\.isWhitespace), reason.count <= 500 else {
            throw .badRequest("reason must be 1 to 500 characters (got \(reason.count)), and not only spaces")
        }
        self.reason = reason
        guard case .string(let text)? = body["expiresIn"] else {
            throw .badRequest("expiresIn is required: " + OverrideDuration.usage)
        }
        guard let duration = OverrideDuration(text) else {
            throw .badRequest(OverrideDuration.usage + "; got \"\(text)\"")
        }
        expiresIn = duration
    }

    private static func string(_ body: [String: JSONValue], _ key: String, _ what: String) throws(APIError) -> String {
        guard case .string(let value)? = body[key], !value.isEmpty else {
            throw .badRequest("\(key) is required: \(what), as a non-empty string")
        }
        return value
    }
}

extension JSONWriter {
    /// `{id, environment, flag, active | variant, reason, createdAt, expiresAt, baseCommit, endedAt, endReason}`.
    mutating func flagOverride(_ override: FlagOverride) {
        objectStart()
        key("id")
        string(override.id)
        key("environment")
        string(override.environment)
        key("flag")
        string(override.flag)
        overrideSetting(override.setting)
        key("reason")
        string(override.reason)
        key("createdAt")
        date(override.createdAt)
        key("expiresAt")
        date(override.expiresAt)
        key("baseCommit")
        string(override.baseCommit)
        key("endedAt")
        date(override.endedAt)
        key("endReason")
        string(override.endReason)
        objectEnd()
    }

    /// `"active": bool` or `"variant": name`.
    mutating func overrideSetting(_ setting: FlagOverride.Setting) {
        switch setting {
        case .active(let value):
            key("active")
            bool(value)
        case .variant(let name):
            key("variant")
            string(name)
        }
    }
}

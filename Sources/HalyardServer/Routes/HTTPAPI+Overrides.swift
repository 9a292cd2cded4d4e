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
        routes.post("/v1/overrides") { request, _ in
            try self.authorizeAdmin(request)
            let watcher = try self.overrideWatcher()
            let body = try await self.jsonObjectBody(request)
            let parsed = try OverrideRequest(body)
            let override = try await self.overrideCall {
                try await watcher.createOverride(
                    environment: parsed.environment,
                    flag: parsed.flag,
                    setting: parsed.setting,
                    reason: parsed.reason,
                    expiresIn: parsed.expiresIn
                )
            }
            return self.json(status: .created, headers: [.location: "/v1/overrides/\(override.id)"]) { json in
                json.flagOverride(override)
            }
        }
        routes.get("/v1/overrides") { request, _ in
            try self.authorizeAdmin(request)
            let watcher = try self.overrideWatcher()
            let all: Bool
            switch request.uri.queryParameters.get("all") {
            case nil, "false": all = false
            case "true": all = true
            case let other?: throw APIError.badRequest("all must be true or false, not \"\(other)\"")
            }
            let overrides: [FlagOverride]
            if all {
                overrides = try await self.overrideCall { try await watcher.allOverrides() }
            } else {
                overrides = watcher.overridesInEffect
            }
            return self.json { json in
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
        routes.get("/v1/overrides/{id}") { request, context in
            try self.authorizeAdmin(request)
            let override = try await self.existingOverride(context)
            return self.json { json in json.flagOverride(override) }
        }
        routes.delete("/v1/overrides/{id}") { request, context in
            try self.authorizeAdmin(request)
            let watcher = try self.overrideWatcher()
            let id = context.parameters.get("id") ?? ""
            let ended = try await self.overrideCall { try await watcher.endOverride(id: id) }
            return self.json { json in json.flagOverride(ended) }
        }
        routes.get("/v1/overrides/{id}/patch") { request, context in
            try self.authorizeAdmin(request)
            let watcher = try self.overrideWatcher()
            let override = try await self.existingOverride(context)
            let patch = try await self.overrideCall { try await watcher.patch(for: override) }
            var buffer = ByteBuffer()
            buffer.writeString(patch.unifiedDiff)
            return Response(status: .ok, headers: [.contentType: "text/x-diff; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
    }

    /// The watcher that keeps overrides, or 404 when this server has none (a bare API in tests).
    private func overrideWatcher() throws(APIError) -> FlagWatcher {
        guard let overrides, overrides.supportsOverrides else {
            throw APIError.notFound("overrides are not available on this server")
        }
        return overrides
    }

    private func existingOverride(_ context: BasicRequestContext) async throws -> FlagOverride {
        let watcher = try overrideWatcher()
        let id = context.parameters.get("id") ?? ""
        guard let override = try await overrideCall({ try await watcher.override(id: id) }) else {
            throw APIError.notFound("override \"\(id)\" not found")
        }
        return override
    }

    /// Runs an override call, mapping ``OverrideError`` to its HTTP status.
    private func overrideCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as OverrideError {
            switch error.kind {
            case .badRequest: throw APIError.badRequest(error.message)
            case .notFound: throw APIError.notFound(error.message)
            case .conflict: throw APIError.conflict(error.message)
            case .notReady: throw APIError.notReady
            case .store: throw APIError(.internalServerError, error.message)
            }
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

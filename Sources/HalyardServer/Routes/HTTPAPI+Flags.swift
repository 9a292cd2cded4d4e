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

/// The read routes: an environment's flags, one flag, and evaluation.
extension HTTPAPI {
    func addFlagRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.get("/v1/environments/{env}/flags") { request, context in
            try self.flagsListing(environment: context.parameters.get("env") ?? "", headers: request.headers).response
        }
        routes.get("/v1/environments/{env}/flags/{id}") { request, context in
            try self.authorizeRead(request)
            let state = try self.servedState()
            let environment = try self.environment(context, in: state)
            let id = context.parameters.get("id") ?? ""
            guard let loaded = environment.flags[id] else {
                throw APIError.notFound("unknown flag \"\(id)\" in environment \"\(environment.name)\"")
            }
            var json = JSONWriter(capacity: 512)
            json.json(loaded.flag.normalizedJSON)
            return self.json(json.byteBuffer)
        }
        routes.post("/v1/environments/{env}/evaluate") { request, context in
            let (state, environment) = try self.readTarget(environment: context.parameters.get("env") ?? "", headers: request.headers)
            let body = try await self.collectContextBody(request)
            return try self.evaluate(body: body, in: environment, state: state).response
        }
    }

    /// `GET /v1/environments/{env}/flags`: the environment's flags with their `ETag`, or 304 when `If-None-Match`
    /// names it.
    func flagsListing(environment name: String, headers: HTTPFields) throws(APIError) -> Answer {
        let (state, environment) = try readTarget(environment: name, headers: headers)
        let etag = EntityTag.quoted(environment.digest)
        if EntityTag.ifNoneMatch(headers, matches: environment.digest) {
            return Answer(status: .notModified, headers: [.eTag: etag])
        }
        let body = flagsBodies.value(for: environment, in: state, build: Self.flagsBody)
        return .json(body, headers: [.eTag: etag])
    }

    /// The checks every read route of an environment starts with: the read token, a served state, the environment.
    func readTarget(environment name: String, headers: HTTPFields) throws(APIError) -> (ServedState, EnvironmentSnapshot) {
        try authorizeRead(headers)
        let state = try servedState()
        return (state, try environment(named: name, in: state))
    }

    /// `POST /v1/environments/{env}/evaluate` once the body is read.
    func evaluate(body: ByteBuffer, in environment: EnvironmentSnapshot, state: ServedState) throws(APIError) -> Answer {
        evaluate(try EvaluateRequest(body: body, limits: configuration.limits), in: environment, state: state)
    }

    /// The environment's pre-encoded bulk answers at the served commit, built on first use.
    func encodedEnvironment(_ environment: EnvironmentSnapshot, in state: ServedState) -> EncodedEnvironment {
        encodedEnvironments.value(for: environment, in: state) { environment, commit in
            EncodedEnvironment(environment, commit: commit, eventsPath: Self.ofrepEventsPath(environment: environment.name))
        }
    }

    /// The `GET /v1/environments/{env}/flags` body: `{environment, commit, digest, flags: {id: flag}}`.
    static func flagsBody(_ environment: EnvironmentSnapshot, commit: String) -> ByteBuffer {
        var json = JSONWriter(capacity: 64 + environment.flags.count * 256)
        json.objectStart()
        json.key("environment")
        json.string(environment.name)
        json.key("commit")
        json.string(commit)
        json.key("digest")
        json.string(environment.digest)
        json.key("flags")
        json.objectStart()
        for id in environment.sortedIDs {
            json.key(id)
            json.json(environment.flags[id]!.flag.normalizedJSON)
        }
        json.objectEnd()
        json.objectEnd()
        return json.byteBuffer
    }

    /// `POST /v1/environments/{env}/evaluate`: `{"context": {...}, "flags": [ids]?, "details": bool?}` →
    /// `{"flags": {id: value}}`.
    ///
    /// A value is a boolean flag's boolean or a typed flag's JSON value, numbers exactly as written. With
    /// `"details": true` each entry is `{"value", "variant", "reason"}` instead. A missing or `null` context is an
    /// empty one; a missing or `null` `flags` evaluates every flag. An unknown id evaluates to `false` (DESIGN §2): its
    /// value is `false`, and its details `{"value": false, "reason": "FLAG_NOT_FOUND"}`, with no variant.
    ///
    /// Every flag (no `flags`) is answered from the environment's ``EncodedEnvironment``, built once per commit.
    func evaluate(_ request: EvaluateRequest, in environment: EnvironmentSnapshot, state: ServedState) -> Answer {
        let details = request.details
        let context = EvaluationContext(request.attributes)
        guard let requested = request.flagIDs else {
            return .json(encodedEnvironment(environment, in: state).evaluateAnswer(context, details: details))
        }
        let perFlag = details ? 80 : 32
        var json = JSONWriter(capacity: 32 + requested.count * perFlag)
        json.objectStart()
        json.key("flags")
        json.objectStart()
        var seen = Set<String>(minimumCapacity: requested.count > 1 ? requested.count : 0)
        for id in requested where requested.count == 1 || seen.insert(id).inserted {
            json.key(id)
            if let flag = environment.flags[id]?.flag {
                json.resolution(flag.resolve(context), of: flag, details: details)
            } else {
                json.flagNotFound(details: details)
            }
        }
        json.objectEnd()
        json.objectEnd()
        return .json(json.byteBuffer)
    }
}

extension JSONWriter {
    /// One entry of an `/evaluate` answer: the value, or with `details` `{"value", "variant", "reason"}`.
    ///
    /// `variant` is left out when there is none (an unknown flag), so the entry is never `"variant": null`.
    /// Writes one flag's answer: its value, or `{"value", "variant", "reason"}` with details. A boolean flag's value is
    /// written straight from the resolution, without copying a JSON value.
    fileprivate mutating func resolution(_ resolution: Resolution, of flag: Flag, details: Bool) {
        if details {
            objectStart()
            key("value")
        }
        if flag.isTyped { json(flag.value(of: resolution)) } else { bool(flag.bool(of: resolution)) }
        guard details else { return }
        key("variant")
        string(flag.variant(of: resolution))
        key("reason")
        string(resolution.reason.rawValue)
        objectEnd()
    }

    /// Writes the answer for an unknown flag id: `false`, or `{"value": false, "reason": "FLAG_NOT_FOUND"}`.
    fileprivate mutating func flagNotFound(details: Bool) {
        guard details else { return bool(false) }
        objectStart()
        key("value")
        bool(false)
        key("reason")
        string(Evaluation.Reason.flagNotFound.rawValue)
        objectEnd()
    }
}

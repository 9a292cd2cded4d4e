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
import Prometheus
import ServiceLifecycle

/// The OpenFeature Remote Evaluation Protocol (OFREP) of each environment (DESIGN §6, `shared/specs/ofrep-openapi.yaml`).
///
/// The OFREP base URL of an environment is `http://host:port/environments/{env}`, so any OpenFeature SDK with an OFREP
/// provider evaluates Halyard flags without Halyard-specific code:
///
/// - `POST /environments/{env}/ofrep/v1/evaluate/flags/{key}`: one flag, `{key, value, reason, variant, metadata}`;
/// - `POST /environments/{env}/ofrep/v1/evaluate/flags`: every flag, with `ETag` / `If-None-Match` and the
///   `eventStreams` entry that points at the next route;
/// - `GET /environments/{env}/ofrep/v1/events`: SSE `refetchEvaluation` events on each effective change (ADR-0008).
///
/// They are read routes: open unless read tokens are configured, then `Authorization: Bearer` or `X-API-Key`. Every
/// error is answered in OFREP's shape, `{key?, errorCode, errorDetails}` (see ``OFREPError``).
extension HTTPAPI {
    func addOFREPRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.post("/environments/{env}/ofrep/v1/evaluate/flags/{key}") { request, context in
            let key = context.parameters.get("key") ?? ""
            do {
                return try await self.ofrepEvaluateFlag(key: key, request: request, context: context)
            } catch let error as OFREPError {
                return error.with(key: key).makeResponse()
            } catch let error as APIError {
                return OFREPError(error, key: key).makeResponse()
            }
        }
        routes.post("/environments/{env}/ofrep/v1/evaluate/flags") { request, context in
            do {
                return try await self.ofrepEvaluateFlags(request: request, context: context)
            } catch let error as OFREPError {
                return error.makeResponse()
            } catch let error as APIError {
                return OFREPError(error).makeResponse()
            }
        }
        routes.get("/environments/{env}/ofrep/v1/events") { request, context in
            do throws(APIError) {
                return try self.ofrepEvents(request: request, context: context)
            } catch  where error.status == .serviceUnavailable && error.headers[.retryAfter] != nil {
                // At limits.maxStreams: the provider is ready, the server is full.
                return OFREPError(status: error.status, code: .general, details: error.message, headers: error.headers).makeResponse()
            } catch {
                return OFREPError(error).makeResponse()
            }
        }
    }

    // MARK: - Evaluation

    /// `POST …/evaluate/flags/{key}`: 200 with the evaluation, or 404 `FLAG_NOT_FOUND`.
    private func ofrepEvaluateFlag(key: String, request: Request, context: BasicRequestContext) async throws -> Response {
        let (state, flag) = try ofrepTarget(key: key, environment: context.parameters.get("env") ?? "", headers: request.headers)
        let body = try await collectContextBody(request)
        return try ofrepEvaluate(key: key, flag: flag, state: state, body: body).response
    }

    /// The flag that a single OFREP evaluation asks for; an unknown key is 404 `FLAG_NOT_FOUND` before the body is read.
    func ofrepTarget(key: String, environment name: String, headers: HTTPFields) throws -> (ServedState, Flag) {
        let (state, environment) = try readTarget(environment: name, headers: headers)
        guard let loaded = environment.flags[key] else {
            throw OFREPError.flagNotFound(key, environment: environment.name)
        }
        return (state, loaded.flag)
    }

    /// A single OFREP evaluation once the body is read: `{key, value, reason, variant, metadata}`.
    func ofrepEvaluate(key: String, flag: Flag, state: ServedState, body: ByteBuffer) throws -> Answer {
        let evaluationContext = EvaluationContext(try OFREPRequest(body: body, limits: configuration.limits).attributes)
        var json = JSONWriter(capacity: 192 + key.utf8.count)
        json.ofrepEvaluation(flagKey: key, flag.resolve(evaluationContext), flag: flag, commit: state.commit)
        return .json(json.byteBuffer)
    }

    /// `POST …/evaluate/flags`: every flag of the environment, in id order.
    private func ofrepEvaluateFlags(request: Request, context: BasicRequestContext) async throws -> Response {
        let (state, environment) = try readTarget(environment: context.parameters.get("env") ?? "", headers: request.headers)
        let body = try await collectContextBody(request)
        return try ofrepEvaluateAll(environment, state: state, headers: request.headers, body: body).response
    }

    /// OFREP bulk evaluation once the body is read.
    ///
    /// The `ETag` is the environment digest and a hash of the context: it changes when a flag or the context does, so
    /// a client polling with `If-None-Match` gets 304 until its evaluations may differ.
    func ofrepEvaluateAll(_ environment: EnvironmentSnapshot, state: ServedState, headers: HTTPFields, body: ByteBuffer) throws -> Answer {
        let parsed = try OFREPRequest(body: body, limits: configuration.limits)
        let tag = environment.digest + "-" + parsed.contextHash
        let etag: HTTPFields = [.eTag: EntityTag.quoted(tag)]
        if EntityTag.ifNoneMatch(headers, matches: tag) {
            return Answer(status: .notModified, headers: etag)
        }
        let answer = encodedEnvironment(environment, in: state).ofrepAnswer(EvaluationContext(parsed.attributes))
        return .json(answer, headers: etag)
    }

    /// The path of an environment's OFREP event stream, as the bulk answer announces it.
    static func ofrepEventsPath(environment: String) -> String {
        "/environments/\(environment)/ofrep/v1/events"
    }

    // MARK: - Events

    /// `GET …/ofrep/v1/events`: the SSE stream of `refetchEvaluation` events.
    private func ofrepEvents(request: Request, context: BasicRequestContext) throws(APIError) -> Response {
        try authorizeRead(request)
        let state = try servedState()
        let environment = try self.environment(context, in: state).name
        let lastEventID = request.headers[.lastEventID].map { String(Substring($0).trimmingSpaces) }.flatMap { $0.isEmpty ? nil : $0 }
        let admission = try admitStream()
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                defer { admission.release() }
                try await self.streamOFREPEvents(environment: environment, lastEventID: lastEventID, request: request, into: &writer)
            }
        )
    }

    /// Writes one client's events until it disconnects, the hub drops it or the server shuts down.
    ///
    /// A `Last-Event-ID` other than the environment's last change (or the served commit) gets one immediate event:
    /// OFREP events carry no change list, so "something changed since then, re-fetch" is the whole catch-up.
    private func streamOFREPEvents(
        environment: String,
        lastEventID: String?,
        request: Request,
        into writer: inout any ResponseBodyWriter
    ) async throws {
        try await runEventStream(
            environment: environment,
            request: request,
            into: &writer,
            catchUp: {
                guard let lastEventID, let state = self.store.current else { return nil }
                guard !self.isCurrent(StreamEventID(parsing: lastEventID), environment: environment, in: state) else { return nil }
                let current = self.streamEventID(environment: environment, in: state).description
                return (current, OFREPEvent.refetch(id: current, environment: environment, in: state))
            },
            render: { id, _ in
                // The watcher swapped the store before publishing, so the store holds this commit or a newer one.
                guard let state = self.store.current else { return nil }
                return OFREPEvent.refetch(id: id, environment: environment, in: state)
            }
        )
    }
}

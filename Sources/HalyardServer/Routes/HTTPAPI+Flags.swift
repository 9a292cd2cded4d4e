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
            try self.authorizeRead(request)
            let state = try self.servedState()
            let environment = try self.environment(context, in: state)
            let etag = EntityTag.quoted(environment.digest)
            if EntityTag.ifNoneMatch(request.headers, matches: environment.digest) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            return self.json(self.flagsBodies.body(for: environment, in: state), headers: [.eTag: etag])
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
            try self.authorizeRead(request)
            let state = try self.servedState()
            let environment = try self.environment(context, in: state)
            let body = try await self.collectContextBody(request)
            return try self.evaluate(EvaluateRequest(body: body, limits: self.configuration.limits), in: environment)
        }
    }

    /// `POST /v1/environments/{env}/evaluate`: `{"context": {...}, "flags": [ids]?}` → `{"flags": {id: bool}}`.
    ///
    /// A missing or `null` context is an empty one; a missing or `null` `flags` evaluates every flag. An unknown id
    /// evaluates to `false` (DESIGN §2).
    func evaluate(_ request: EvaluateRequest, in environment: EnvironmentSnapshot) -> Response {
        let requested = request.flagIDs
        let context = EvaluationContext(request.attributes)
        var json = JSONWriter(capacity: 32 + (requested?.count ?? environment.flags.count) * 32)
        json.objectStart()
        json.key("flags")
        json.objectStart()
        if let requested {
            var seen = Set<String>(minimumCapacity: requested.count > 1 ? requested.count : 0)
            for id in requested where requested.count == 1 || seen.insert(id).inserted {
                json.key(id)
                json.json(environment.flags[id]?.flag.evaluate(context).value ?? .bool(false))
            }
        } else {
            for id in environment.sortedIDs {
                json.key(id)
                json.json(environment.flags[id]!.flag.evaluate(context).value)
            }
        }
        json.objectEnd()
        json.objectEnd()
        return self.json(json.byteBuffer)
    }
}

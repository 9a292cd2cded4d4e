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

/// The operational routes: liveness, readiness and metrics, open to all and saying nothing secret, and the status,
/// a read route (open unless read tokens are configured).
extension HTTPAPI {
    func addHealthRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.get("/healthz") { _, _ in
            self.json(JSONWriter.object("status", "ok"))
        }
        routes.get("/readyz") { _, _ in
            guard let state = self.store.current else { throw APIError.notReady }
            return self.json { json in
                json.objectStart()
                json.key("status")
                json.string("ready")
                json.key("commit")
                json.string(state.commit)
                json.objectEnd()
            }
        }
        routes.get("/v1/status") { request, _ in
            try self.authorizeRead(request)
            return self.status()
        }
        routes.get("/metrics") { _, _ in
            var buffer = ByteBuffer()
            buffer.writeBytes(self.metricsRegistry.emitToBuffer())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: buffer)
            )
        }
    }

    /// `GET /v1/status`: the served commit, the watcher's health, a rejected tip (its first diagnostics and their
    /// count), the shared state store's health (PostgreSQL only) and each environment.
    ///
    /// `lastFetchError` carries no credential: HalyardGit masks them in every error it makes.
    func status() -> Response {
        let state = store.current
        let status = store.status
        return json { json in
            json.objectStart()
            json.key("commit")
            json.string(state?.commit)
            json.key("appliedAt")
            json.date(state?.appliedAt)
            json.key("lastFetchAt")
            json.date(status.lastFetchAt)
            json.key("lastFetchError")
            json.string(status.lastFetchError)
            if let rejected = status.rejected {
                json.key("rejected")
                json.objectStart()
                json.key("commit")
                json.string(rejected.commit)
                json.key("at")
                json.date(rejected.at)
                json.key("errors")
                json.arrayStart()
                for error in rejected.errors {
                    json.diagnostic(error)
                }
                json.arrayEnd()
                json.key("errorCount")
                json.int(rejected.errorCount)
                json.objectEnd()
            }
            if let shared = sharedStateHealth?() {
                json.key("state")
                json.objectStart()
                json.key("kind")
                json.string(shared.kind)
                json.key("reachable")
                json.bool(shared.reachable)
                json.key("lastError")
                json.string(shared.lastError)
                json.key("publisher")
                json.bool(shared.publisher)
                json.key("publishedCommit")
                json.string(shared.publishedCommit)
                json.key("publicationPending")
                json.bool(shared.publicationPending)
                json.objectEnd()
            }
            if let overrides {
                json.key("overrides")
                json.arrayStart()
                for override in overrides.overridesInEffect {
                    json.objectStart()
                    json.key("id")
                    json.string(override.id)
                    json.key("environment")
                    json.string(override.environment)
                    json.key("flag")
                    json.string(override.flag)
                    json.overrideSetting(override.setting)
                    json.key("expiresAt")
                    json.date(override.expiresAt)
                    json.objectEnd()
                }
                json.arrayEnd()
            }
            json.key("environments")
            json.objectStart()
            if let state {
                for name in state.snapshot.environmentNames {
                    let environment = state.snapshot.environments[name]!
                    json.key(name)
                    json.objectStart()
                    json.key("flags")
                    json.int(environment.flags.count)
                    json.key("digest")
                    json.string(environment.digest)
                    json.key("lastChange")
                    json.string(state.lastChange[name])
                    json.objectEnd()
                }
            }
            json.objectEnd()
            json.objectEnd()
        }
    }
}

extension JSONWriter {
    /// `{file, pointer, message, hint?, code?}`, as `validate --format json` prints it.
    mutating func diagnostic(_ diagnostic: Diagnostic) {
        objectStart()
        key("file")
        string(diagnostic.file)
        key("pointer")
        string(diagnostic.pointer)
        key("message")
        string(diagnostic.message)
        if let hint = diagnostic.hint {
            key("hint")
            string(hint)
        }
        if let code = diagnostic.code {
            key("code")
            string(code)
        }
        objectEnd()
    }
}

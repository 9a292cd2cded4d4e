import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `halyard override`: break-glass overrides on a running `halyard serve`, through its admin API (`/v1/overrides`).
struct Override: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, end and turn into a patch the break-glass overrides of a running server.",
        discussion: """
            Talks to a running halyard serve (--server, default http://127.0.0.1:8080) with its admin token \
            (--token or HALYARD_TOKEN). Exit status: 0 success, 1 refused by the server (the error is printed), \
            2 server unreachable, 64 usage error.
            """,
        subcommands: [Create.self, List.self, End.self, Patch.self]
    )

    /// Where the server is and how to authenticate, shared by every subcommand.
    struct ServerOptions: ParsableArguments {
        @Option(help: "The base URL of the running server.")
        var server: String = "http://127.0.0.1:8080"

        @Option(help: "The admin token (default: the HALYARD_TOKEN environment variable).")
        var token: String?

        var resolvedToken: String? {
            token ?? ProcessInfo.processInfo.environment["HALYARD_TOKEN"]
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Override one flag now, for a while, with a reason.")

        @Option(help: "The environment.")
        var env: String

        @Option(help: "The flag id.")
        var flag: String

        @Option(help: "Serve the flag with targeting on (true) or off (false).")
        var active: Bool?

        @Option(help: "Serve this variant of a typed flag to everybody.")
        var variant: String?

        @Option(help: "Why; kept in the audit list and the logs.")
        var reason: String

        @Option(name: .customLong("expires-in"), help: "How long: a number and s, m, h or d (at most 7d).")
        var expiresIn: String

        @OptionGroup var options: ServerOptions

        func validate() throws {
            if (active == nil) == (variant == nil) {
                throw ValidationError("give exactly one of --active true|false and --variant NAME")
            }
        }

        func run() async throws {
            var body: [String: Any] = ["environment": env, "flag": flag, "reason": reason, "expiresIn": expiresIn]
            if let active { body["active"] = active }
            if let variant { body["variant"] = variant }
            let reply = try await OverrideClient(options: options).send(.POST, "/v1/overrides", body: body)
            print(OverrideClient.line(reply))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the overrides in effect, or all of them with --all.")

        @Flag(help: "Also list ended overrides (the audit list).")
        var all = false

        @Flag(help: "Print the server's JSON.")
        var json = false

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let reply = try await OverrideClient(options: options).send(.GET, all ? "/v1/overrides?all=true" : "/v1/overrides")
            if json {
                print(reply.text)
                return
            }
            let overrides = reply.json["overrides"] as? [[String: Any]] ?? []
            if overrides.isEmpty { print(all ? "no overrides" : "no overrides in effect") }
            for override in overrides {
                print(OverrideClient.line(override))
            }
        }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End an override now; the flag is served as committed again.")

        @Argument(help: "The override id (ovr_…).")
        var id: String

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let reply = try await OverrideClient(options: options).send(.DELETE, "/v1/overrides/\(id)")
            print(OverrideClient.line(reply.json))
        }
    }

    struct Patch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the unified diff that makes an override permanent (for git apply)."
        )

        @Argument(help: "The override id (ovr_…).")
        var id: String

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let reply = try await OverrideClient(options: options).send(.GET, "/v1/overrides/\(id)/patch")
            print(reply.text, terminator: "")
        }
    }
}

/// The HTTP calls of `halyard override`.
struct OverrideClient {
    let options: Override.ServerOptions

    struct Reply {
        var status: Int
        var text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    /// One attempt to connect, within 10 s: a server that is down or refuses the connection is reported at once.
    /// (`HTTPClient.shared` tries to connect again and again until the request's 30 s are up, so
    /// `halyard override list` against a stopped server hung for 30 s before it said "connection refused".)
    static var httpClientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// Sends one request; a refusal prints the server's error and exits 1, an unreachable server exits 2.
    func send(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> Reply {
        var base = options.server
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token = options.resolvedToken { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
        }
        let reply: Reply
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.httpClientConfiguration)
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            reply = Reply(status: Int(response.status.code), text: String(buffer: try await response.body.collect(upTo: 4 << 20)))
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            printError("error: cannot reach \(base): \(error)")
            throw ExitCode(2)
        }
        guard (200..<300).contains(reply.status) else {
            let message = reply.json["error"] as? String ?? reply.text
            printError("error: \(reply.status): \(message)")
            throw ExitCode(1)
        }
        return reply
    }

    /// One override on one line: id, flag, setting, until when, and its end or reason.
    static func line(_ override: [String: Any]) -> String {
        let id = override["id"] as? String ?? "?"
        let flag = "\(override["environment"] as? String ?? "?")/\(override["flag"] as? String ?? "?")"
        let setting: String
        if let active = override["active"] as? Bool {
            setting = "active=\(active)"
        } else {
            setting = "variant=\(override["variant"] as? String ?? "?")"
        }
        let expires = override["expiresAt"] as? String ?? "?"
        let state: String
        if let reason = override["endReason"] as? String {
            state = "ended (\(reason)) at \(override["endedAt"] as? String ?? "?")"
        } else {
            state = "until \(expires)"
        }
        return "\(id)  \(flag)  \(setting)  \(state)  reason: \(override["reason"] as? String ?? "")"
    }

    static func line(_ reply: Reply) -> String { line(reply.json) }
}

//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HalyardServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Keeps `Sources/HalyardServer/openapi.yaml` and the router in step.
struct OpenAPIDocumentTests {
    /// The operations of an OpenAPI document, read with a line scan: paths are the two-space-indented keys under
    /// `paths:`, methods the four-space-indented HTTP method keys under a path.
    static func operations(in yaml: String) -> [String: Set<String>] {
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var operations: [String: Set<String>] = [:]
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" "), !line.isEmpty {
                inPaths = line.hasPrefix("paths:")
                path = nil
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                let name = String(line.dropFirst(2).dropLast())
                path = name
                operations[name, default: []] = []
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = String(line.dropFirst(4).dropLast())
                if methods.contains(key) { operations[path]!.insert(key.uppercased()) }
            }
        }
        return operations
    }

    /// A concrete URI for a route pattern; `{env}` is an environment the fixture does not have, so that even the SSE
    /// routes answer at once (404), and other captures get placeholder values.
    static func uri(for pattern: String) -> String {
        pattern
            .replacingOccurrences(of: "{env}", with: "qa")
            .replacingOccurrences(of: "{id}", with: "sub_unknown")
            .replacingOccurrences(of: "{key}", with: "new-checkout")
    }

    @Test func testTheDocumentIsServed() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/yaml")
                #expect(response.text.hasPrefix("openapi: 3.1.0\n"))
                #expect(response.text.contains("/environments/{env}/ofrep/v1/evaluate/flags/{key}:"))
            }
            try await client.execute(uri: "/openapi.yaml", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func testEveryRouteIsDocumentedAndEveryDocumentedPathIsRouted() async throws {
        let fixture = try ServerFixture()
        let router = fixture.api.makeRouter()
        // The console (`/ui`, DESIGN §12) is HTML for people, not API: the document leaves it out.
        let routed = Set(router.routes.map(\.path.description).filter { !$0.hasPrefix("/ui") })
        try await fixture.application().test(.router) { client in
            let yaml = try await client.execute(uri: "/openapi.yaml", method: .get).text
            let documented = Self.operations(in: yaml)
            #expect(documented.count >= 17)
            #expect(routed.subtracting(documented.keys).isEmpty, "routed but not documented: \(routed.subtracting(documented.keys).sorted())")
            #expect(
                Set(documented.keys).subtracting(routed).isEmpty,
                "documented but not routed: \(Set(documented.keys).subtracting(routed).sorted())"
            )
            for path in DESIGNRoutes.paths {
                #expect(documented[path] != nil, "DESIGN §6 route \(path) is not documented")
            }

            // Every documented method is routed (answered with anything but 405 or "no route"); every other standard
            // method gets 405, except HEAD, which every GET route also answers.
            let standard: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
            for (path, methods) in documented.sorted(by: { $0.key < $1.key }) {
                #expect(!methods.isEmpty, "\(path) has no operation")
                let uri = Self.uri(for: path)
                for method in standard {
                    let isDocumented = methods.contains(method.rawValue) || (method == .head && methods.contains("GET"))
                    let response = try await client.execute(uri: uri, method: method, body: method == .post ? .string("{}") : nil)
                    if isDocumented {
                        #expect(response.status != .methodNotAllowed, "\(method) \(uri)")
                        #expect(response.error?.hasPrefix("no route") != true, "\(method) \(uri)")
                    } else {
                        #expect(response.status == .methodNotAllowed, "\(method) \(uri) is routed but not documented")
                    }
                }
            }
        }
    }

    @Test func testTheLineScanReadsPathsAndMethods() {
        let yaml = """
            openapi: 3.1.0
            paths:
              /a/{x}:
                parameters:
                  - name: x
                get:
                  responses: {}
                post:
                  requestBody:
                    content: {}
              /b:
                delete:
                  description: |
                    get:
            components:
              schemas:
                /not-a-path:
                  get: {}
            """
        #expect(Self.operations(in: yaml) == ["/a/{x}": ["GET", "POST"], "/b": ["DELETE"]])
    }
}

/// The routes of DESIGN §6, OFREP and the two operational documents included.
enum DESIGNRoutes {
    static let paths = [
        "/healthz", "/readyz", "/v1/status",
        "/v1/environments/{env}/flags", "/v1/environments/{env}/flags/{id}", "/v1/environments/{env}/evaluate",
        "/v1/environments/{env}/stream",
        "/environments/{env}/ofrep/v1/evaluate/flags/{key}", "/environments/{env}/ofrep/v1/evaluate/flags",
        "/environments/{env}/ofrep/v1/events",
        "/v1/hooks/git", "/v1/refresh", "/v1/subscriptions", "/v1/subscriptions/{id}", "/v1/subscriptions/{id}/deliveries",
        "/metrics", "/openapi.yaml",
    ]
}

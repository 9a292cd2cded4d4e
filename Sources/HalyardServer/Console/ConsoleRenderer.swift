//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Renders the console's pages from ``ConsoleTemplates`` and builds its responses with the security headers.
enum ConsoleRenderer {
    /// The compiled templates, parsed once. The templates are constants checked by the tests, so a parse failure is a
    /// programming error.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("console template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    /// The headers of every console response (DESIGN §12, §13): no script or style from elsewhere, no framing, no
    /// MIME sniffing, no referrer outside this origin, no caching of pages that may show protected data.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    /// A page rendered with `template`: `data` plus the common fields (`page`, `title`, …).
    static func render(_ template: String, _ data: [String: Any]) -> String {
        library.render(data, withTemplate: template) ?? ""
    }

    /// An HTML response with the security headers and `Cache-Control: no-store`.
    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A `303 See Other` to a path of this origin.
    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }

    /// A static asset, cacheable for a few minutes.
    static func asset(_ text: String, contentType: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = contentType
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

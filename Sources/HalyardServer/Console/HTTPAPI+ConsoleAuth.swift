//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird

/// Who is asking for a console page, as far as the console can tell.
struct ConsoleVisitor: Sendable {
    /// The visitor's session, if logged in.
    let session: ConsoleSession?
    /// What the visitor may see: from the session, or from an `Authorization: Bearer` header; nil when neither.
    let role: ConsoleRole?
    /// The CSRF token its forms carry: the session's, or else the double-submit cookie's.
    let csrfToken: String
    /// True when the CSRF cookie was just made and must be set on the response.
    let setsCSRFCookie: Bool
}

/// The console's authorisation (DESIGN §12, §6): the same rules as the JSON routes, with a login form and a cookie.
///
/// - Without tokens configured, the read pages are open; the admin page needs the admin token, and answers 403 when
///   none is configured, like `/v1/subscriptions`.
/// - With read tokens, the read pages need a session (or `Authorization: Bearer`), else they redirect to `/ui/login`.
/// - Logging in posts a read or the admin token once; the answer sets an `HttpOnly; SameSite=Strict; Path=/ui` cookie
///   holding a random session id (plus `Secure` over HTTPS). Tokens never appear in a URL.
/// - Every `POST` carries a CSRF token in a hidden field: the session's, or before login the value of a double-submit
///   cookie. A cross-origin `Origin` header is refused as well.
extension HTTPAPI {
    static let sessionCookie = "halyard_session"
    static let csrfCookie = "halyard_csrf"

    /// Reads the visitor of a console request.
    func consoleVisitor(_ request: Request) -> ConsoleVisitor {
        let cookies = ConsoleText.cookies(request.headers[.cookie])
        let session = cookies[Self.sessionCookie].flatMap { consoleSessions.session(id: $0) }
        var role = session?.role
        if role == nil, let bearer = AccessTokens.bearerToken(in: request.headers) {
            role = self.role(ofToken: bearer)
        }
        if let session {
            return ConsoleVisitor(session: session, role: role, csrfToken: session.csrfToken, setsCSRFCookie: false)
        }
        if let cookie = cookies[Self.csrfCookie], cookie.utf8.count == 64, cookie.utf8.allSatisfy({ Self.isHexDigit($0) }) {
            return ConsoleVisitor(session: nil, role: role, csrfToken: cookie, setsCSRFCookie: false)
        }
        return ConsoleVisitor(session: nil, role: role, csrfToken: ConsoleSessions.randomToken(), setsCSRFCookie: true)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// The role a token grants: admin for the admin token, read for a read token; nil for anything else. Every
    /// comparison takes the same time wherever the strings differ.
    func role(ofToken token: some StringProtocol) -> ConsoleRole? {
        let isAdmin = adminToken.map { AccessTokens.constantTimeEquals(token, $0) } ?? false
        let isReader = AccessTokens.matchesAny(token, of: readTokens)
        if isAdmin { return .admin }
        return isReader ? .read : nil
    }

    /// Whether any token is configured, so that logging in means something.
    var consoleHasTokens: Bool { !readTokens.isEmpty || adminToken != nil }

    /// Whether the visitor may see the read pages.
    func consoleMayRead(_ visitor: ConsoleVisitor) -> Bool {
        readTokens.isEmpty || visitor.role != nil
    }

    /// True when the form's CSRF field matches the visitor's token and the request is not from another origin.
    func consoleCSRFIsValid(_ request: Request, visitor: ConsoleVisitor, form: [String: String]) -> Bool {
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            guard !host.isEmpty, origin == "http://" + host || origin == "https://" + host else { return false }
        }
        guard !visitor.setsCSRFCookie, let presented = form["csrf"], !presented.isEmpty else { return false }
        return AccessTokens.constantTimeEquals(presented, visitor.csrfToken)
    }

    /// A console cookie: `HttpOnly; SameSite=Strict; Path=/ui`, `Secure` over HTTPS, and `Max-Age=0` to clear it.
    func consoleCookie(_ name: String, _ value: String, request: Request, clear: Bool = false) -> HTTPField {
        var text = "\(name)=\(value); Path=/ui; HttpOnly; SameSite=Strict"
        if configuration.console.secureCookies || request.uri.scheme?.rawValue == "https" || request.head.scheme == "https" { text += "; Secure" }
        if clear { text += "; Max-Age=0" }
        return HTTPField(name: .setCookie, value: text)
    }

    /// The cookie headers a page answer must carry for this visitor (the CSRF cookie, when new).
    func consoleCookies(for visitor: ConsoleVisitor, request: Request) -> HTTPFields {
        guard visitor.setsCSRFCookie else { return [:] }
        return HTTPFields([consoleCookie(Self.csrfCookie, visitor.csrfToken, request: request)])
    }

    /// A path to come back to after logging in: a console path of this origin, else `/ui`.
    static func consoleNext(_ next: String?) -> String {
        guard let next, next == "/ui" || next.hasPrefix("/ui/") || next.hasPrefix("/ui?"),
            !next.contains("//"), !next.contains("\\"), next.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return "/ui" }
        return next
    }

    /// Where to send a visitor who must log in first.
    func consoleLoginRedirect(_ request: Request) -> Response {
        var next = request.uri.path
        if let query = request.uri.query, !query.isEmpty { next += "?" + query }
        return ConsoleRenderer.redirect(to: "/ui/login?next=" + ConsoleText.urlEncode(Self.consoleNext(next)))
    }
}

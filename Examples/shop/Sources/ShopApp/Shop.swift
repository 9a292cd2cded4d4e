//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardClient
import HalyardClientHummingbird
import HalyardRules
import Hummingbird

/// The shop's routes: the page, the flags of a user, and Halyard's refresh calls.
public enum Shop {
    /// `GET /`, `GET /flags` and `POST /hooks/flags`, all answered from `flags`.
    public static func router(flags: HalyardClient) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { request, _ -> Response in
            let user = context(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
            return html(page(flags: flags, user: user))
        }
        router.get("/flags") { request, _ -> Response in
            let user = context(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
            var json = JSONWriter()
            json.objectStart()
            json.key("flags")
            json.objectStart()
            let all = flags.allFlags(context: user)
            for id in all.keys.sorted() {
                let details = all[id]!
                json.key(id)
                json.objectStart()
                json.key("value")
                json.json(details.value)
                json.key("variant")
                json.string(details.variant)
                json.key("reason")
                json.string(details.reason.rawValue)
                json.objectEnd()
            }
            json.objectEnd()
            json.objectEnd()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: json.bytes)))
        }
        router.addHalyardRefreshRoute("/hooks/flags", client: flags)
        return router
    }

    /// The user of a request: each query parameter is an attribute, its value parsed as `halyard eval --attr` does
    /// (a JSON number, boolean or null stays one; anything else is a string).
    public static func context(_ parameters: [(String, String)]) -> EvaluationContext {
        var attributes: [String: JSONValue] = [:]
        for (key, raw) in parameters {
            switch try? JSONValue.parse(raw) {
            case .some(.array), .some(.object), .none: attributes[key] = .string(raw)
            case .some(let value): attributes[key] = value
            }
        }
        return EvaluationContext(attributes)
    }

    /// The page: the checkout the user gets (`new-checkout`, a boolean flag) and its layout (`checkout-layout`, a
    /// typed flag).
    static func page(flags: HalyardClient, user: EvaluationContext) -> String {
        let newCheckout = flags.bool("new-checkout", default: false, context: user)
        let layout = flags.stringDetails("checkout-layout", default: "classic", context: user)
        let who = user.attributes["userId"].map { escape($0.stringValue ?? $0.jsonText) } ?? "guest"
        let commit = flags.flagSet.map { String($0.commit.prefix(7)) } ?? "no flags yet"
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Shop</title></head>
            <body class="layout-\(escape(layout.value))">
            <h1>Welcome, \(who)</h1>
            <p id="checkout">\(newCheckout ? "Try our new one-page checkout!" : "Checkout")</p>
            <p id="layout">Layout: \(escape(layout.value)) (\(layout.reason.rawValue))</p>
            <footer>flags at \(commit)</footer>
            </body></html>
            """
    }

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

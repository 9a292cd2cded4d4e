//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Testing

@testable import HalyardServer

/// The console's small codecs: form bodies, cookies, the return path after login and the describers' inline markup.
struct ConsoleTextTests {
    @Test func testFormFields() {
        let fields = ConsoleText.formFields("context=%7B%22plan%22%3A+%22a+b%22%7D&csrf=x&csrf=y&bad=%zz%4&empty=&flag")
        #expect(fields["context"] == #"{"plan": "a b"}"#)
        #expect(fields["csrf"] == "x")
        #expect(fields["bad"] == "%zz%4")
        #expect(fields["empty"] == "")
        #expect(fields["flag"] == "")
        #expect(ConsoleText.formFields("name=%C3%A9%FF")["name"] == "é\u{FFFD}")
    }

    @Test func testCookies() {
        let cookies = ConsoleText.cookies(" halyard_session=abc ; other=1;halyard_session=evil; broken")
        #expect(cookies == ["halyard_session": "abc", "other": "1"])
        #expect(ConsoleText.cookies(nil).isEmpty)
    }

    @Test func testTheReturnPathStaysInTheConsole() {
        #expect(HTTPAPI.consoleNext("/ui/environments/production") == "/ui/environments/production")
        #expect(HTTPAPI.consoleNext("/ui?x=1") == "/ui?x=1")
        for bad in [nil, "", "https://evil.example/ui", "//evil.example/ui", "/ui//evil.example", "/uix", "/ui/\\evil", "/ui/a b", "/v1/status"] {
            #expect(HTTPAPI.consoleNext(bad) == "/ui", "\(bad ?? "nil")")
        }
    }

    @Test func testInlineSegments() {
        let segments = ConsoleText.segments("**switched off**: everybody gets `false` and `<b>`, a ` alone")["segments"] as? [[String: Any]] ?? []
        let parts = segments.map { "\($0["text"]!)|\($0["code"] as! Bool)|\($0["strong"] as! Bool)" }
        #expect(
            parts == [
                "switched off|false|true", ": everybody gets |false|false", "false|true|false", " and |false|false", "<b>|true|false",
                ", a ` alone|false|false",
            ]
        )
    }

    @Test func testURLEncoding() {
        #expect(ConsoleText.urlEncode("a b/c?d&é") == "a%20b%2Fc%3Fd%26%C3%A9")
        #expect(ConsoleText.urlEncode("new-checkout_2.x~") == "new-checkout_2.x~")
    }
}

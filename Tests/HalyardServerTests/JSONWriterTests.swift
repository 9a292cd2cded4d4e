//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing

@testable import HalyardServer

/// The server's answers are written by HalyardRules' `JSONWriter`, with its escaping.
struct JSONWriterTests {
    @Test func oneKeyObjectsEscapeLikeEveryOtherJSON() {
        let body = JSONWriter.object("error", "bad \"id\" \\ \u{8}\u{C}\n\u{1} é")
        #expect(String(buffer: body) == #"{"error":"bad \"id\" \\ \b\f\n\u0001 é"}"#)
    }

    @Test func writesTimestampsOrNull() {
        var json = JSONWriter()
        json.arrayStart()
        json.date(Date(timeIntervalSince1970: 1_795_003_200))
        json.date(nil)
        json.arrayEnd()
        #expect(String(buffer: json.byteBuffer) == #"["2026-11-18T12:00:00Z",null]"#)
    }
}

import Foundation
import HalyardRules
import HalyardSync
import Testing

/// `metadata.expires`: ISO dates and date-times, and malformed values (DESIGN §14).
struct FlagExpiryTests {
    private static func expiry(_ value: JSONValue) -> FlagExpiry? {
        FlagExpiry(of: Flag(id: "f", active: true, rules: [], metadata: ["expires": value]))
    }

    private static func date(_ value: String) -> Date? {
        if case .date(let date, _)? = expiry(.string(value)) { return date }
        return nil
    }

    @Test func testDatesAndDateTimes() {
        #expect(Self.date("2026-12-01") == Date(timeIntervalSince1970: 1_796_083_200))
        #expect(Self.date("2024-02-29") == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(Self.date("2026-12-01T09:00:00Z") == Date(timeIntervalSince1970: 1_796_115_600))
        #expect(Self.date("2026-12-01T09:00:00+02:00") == Date(timeIntervalSince1970: 1_796_108_400))
        #expect(Self.date("2026-12-01T09:00:00.500Z") == Date(timeIntervalSince1970: 1_796_115_600.5))
        #expect(FlagExpiry(of: Flag(id: "f", active: true, rules: [])) == nil)
    }

    @Test func testMalformedValues() {
        for value: JSONValue in ["2026-13-01", "2025-02-29", "01/12/2026", "next tuesday", "2026-12-1", 20261201, true] {
            let expiry = Self.expiry(value)
            #expect(expiry?.isMalformed == true, "\(value.jsonText)")
            #expect(expiry?.isPast(at: Date()) == false)
            #expect(expiry?.warning(file: "flags/p/f.json", at: Date())?.message.contains("not an ISO date") == true)
        }
    }

    @Test func testPastAndWarning() throws {
        let expiry = try #require(Self.expiry("2026-12-01"))
        #expect(!expiry.isPast(at: Date(timeIntervalSince1970: 1_796_083_199)))
        #expect(expiry.isPast(at: Date(timeIntervalSince1970: 1_796_083_200)))
        #expect(expiry.warning(file: "flags/p/f.json", at: Date(timeIntervalSince1970: 1_796_083_199)) == nil)
        let warning = try #require(expiry.warning(file: "flags/p/f.json", at: Date(timeIntervalSince1970: 1_796_083_200)))
        #expect(warning.severity == .warning && warning.pointer == "/metadata/expires" && warning.message == "the flag expired on 2026-12-01")
    }
}

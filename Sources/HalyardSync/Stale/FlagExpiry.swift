import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A flag's `metadata.expires`: the date after which the flag should be gone from the code and the repository.
///
/// The value is an ISO date (`"2026-12-01"`, which expires at 00:00 UTC that day) or a full ISO 8601 date and time
/// (`"2026-12-01T09:00:00Z"`, `"2026-12-01T09:00:00.5+02:00"`). Anything else is ``malformed(_:)``, which `stale`
/// and `validate` report rather than ignore.
public enum FlagExpiry: Sendable, Equatable {
    /// A well-formed expiry date.
    case date(Date, text: String)
    /// `metadata.expires` is there but is not an ISO date: the JSON text of the value.
    case malformed(String)

    /// The expiry of `flag`; nil when its metadata has no `expires`.
    public init?(of flag: Flag) {
        guard let value = flag.metadata["expires"] else { return nil }
        guard case .string(let text) = value, let date = Self.parse(text) else {
            self = .malformed(value.jsonText)
            return
        }
        self = .date(date, text: text)
    }

    /// Whether the flag is past its expiry at `now`; false for a malformed one.
    public func isPast(at now: Date) -> Bool {
        if case .date(let date, _) = self { return date <= now }
        return false
    }

    /// `metadata.expires` as the file has it.
    public var text: String {
        switch self {
        case .date(_, let text): text
        case .malformed(let text): text
        }
    }

    /// A diagnostic for `validate`: a warning for an expired flag or a malformed date, nil otherwise.
    public func warning(file: String, at now: Date) -> Diagnostic? {
        switch self {
        case .date(_, let text):
            guard isPast(at: now) else { return nil }
            return Diagnostic(
                severity: .warning, file: file, pointer: "/metadata/expires",
                message: "the flag expired on \(text)",
                hint: "remove the flag from the code and this file, or move metadata.expires later")
        case .malformed(let text):
            return Diagnostic(
                severity: .warning, file: file, pointer: "/metadata/expires",
                message: "metadata.expires is \(text), not an ISO date",
                hint: "write a date such as \"2026-12-01\" or \"2026-12-01T09:00:00Z\"")
        }
    }

    /// Parses `YYYY-MM-DD` (00:00 UTC) or an ISO 8601 date and time with a zone; nil for anything else.
    static func parse(_ text: String) -> Date? {
        if let day = parseDay(text) { return day }
        guard text.count > 10 else { return nil }
        for fractions in [false, true] {
            for separator in [Date.ISO8601FormatStyle.TimeZoneSeparator.omitted, .colon] {
                let style = Date.ISO8601FormatStyle(timeZoneSeparator: separator, includingFractionalSeconds: fractions)
                if let date = try? style.parse(text) { return date }
            }
        }
        return nil
    }

    /// `YYYY-MM-DD` with a real month and day, at 00:00 UTC.
    private static func parseDay(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), (1...12).contains(month) else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        return Date(timeIntervalSince1970: Double(daysSinceEpoch(year: year, month: month, day: day)) * 86_400)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

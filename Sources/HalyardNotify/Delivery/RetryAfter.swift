//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Parses the `Retry-After` response header (RFC 9110 §10.2.3): delay seconds or an HTTP-date.
enum RetryAfter {
    /// The earliest time of the next attempt the header asks for, or `nil` when it is absent or malformed.
    static func date(from value: String?, now: Date) -> Date? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            guard let seconds = Int(value) else { return .distantFuture }
            return now.addingTimeInterval(TimeInterval(seconds))
        }
        return Self.httpDate(value)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses an HTTP-date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    /// or asctime (`Sun Nov  6 08:49:37 1994`).
    static func httpDate(_ value: String) -> Date? {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        var day: Int?
        var month: Int?
        var year: Int?
        var time: [Int]?
        switch parts.count {
        case 6 where parts[5].uppercased() == "GMT":  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(parts[1])
            month = Self.month(parts[2])
            year = Int(parts[3])
            time = Self.time(parts[4])
        case 4 where parts[3].uppercased() == "GMT":  // RFC 850: weekday, DD-Mon-YY HH:MM:SS GMT
            let date = parts[1].split(separator: "-").map(String.init)
            guard date.count == 3 else { return nil }
            day = Int(date[0])
            month = Self.month(date[1])
            year = Int(date[2]).map { $0 < 100 ? ($0 < 70 ? 2000 + $0 : 1900 + $0) : $0 }
            time = Self.time(parts[2])
        case 5:  // asctime: Sun Nov  6 08:49:37 1994
            month = Self.month(parts[1])
            day = Int(parts[2])
            time = Self.time(parts[3])
            year = Int(parts[4])
        default:
            return nil
        }
        guard let day, let month, let year, let time, (1...31).contains(day) else { return nil }
        var components = DateComponents()
        components.year = year
        components.month = month
        components.day = day
        components.hour = time[0]
        components.minute = time[1]
        components.second = time[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(from: components)
    }

    private static func month(_ name: String) -> Int? {
        Self.months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    private static func time(_ value: String) -> [Int]? {
        let fields = value.split(separator: ":").compactMap { Int($0) }
        guard fields.count == 3, (0...23).contains(fields[0]), (0...59).contains(fields[1]), (0...60).contains(fields[2]) else {
            return nil
        }
        return fields
    }
}

//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// The `expiresIn` of an override: a whole number and a unit, `s`, `m`, `h` or `d` (`30m`, `2h`, `1d`), from 1 s
/// to 7 days.
public struct OverrideDuration: Sendable, Hashable {
    /// The longest an override may last: 7 days.
    public static let maximumSeconds = 7 * 24 * 3_600

    /// The duration in seconds.
    public let seconds: Int

    /// Parses `text`; nil when it is not a whole number and a unit, or outside 1 s … 7 days.
    public init?(_ text: String) {
        guard let unit = text.last, let count = Int(text.dropLast()), count > 0, text.first?.isNumber == true else { return nil }
        let scale: Int
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3_600
        case "d": scale = 86_400
        default: return nil
        }
        guard count <= Self.maximumSeconds / scale else { return nil }
        self.seconds = count * scale
    }

    /// What a valid `expiresIn` looks like, for error messages.
    public static let usage = "expiresIn must be a whole number and a unit s, m, h or d (such as \"30m\", \"2h\" or \"1d\"), at most 7 days"
}

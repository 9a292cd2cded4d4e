internal import CLibgit2
public import Foundation

/// Who made a commit (or authored its change) and when.
///
/// The audit history (`halyard history`) and the webhook payloads show author, e-mail and date of flag changes.
public struct Signature: Sendable, Equatable {
    /// The name, as recorded (`user.name`).
    public var name: String
    /// The e-mail address, as recorded (`user.email`).
    public var email: String
    /// The instant, with a resolution of one second.
    public var time: Date
    /// The signer's offset from UTC in minutes when they signed (e.g. 60 for `+0100`), for showing local times.
    public var timeZoneOffsetMinutes: Int

    /// Creates a signature.
    public init(name: String, email: String, time: Date, timeZoneOffsetMinutes: Int = 0) {
        self.name = name
        self.email = email
        self.time = time
        self.timeZoneOffsetMinutes = timeZoneOffsetMinutes
    }

    init(_ signature: UnsafePointer<git_signature>) {
        let value = signature.pointee
        self.init(
            name: String(gitString: value.name),
            email: String(gitString: value.email),
            time: Date(timeIntervalSince1970: TimeInterval(value.when.time)),
            timeZoneOffsetMinutes: Int(value.when.offset)
        )
    }
}

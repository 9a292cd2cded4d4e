//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Polls `condition` every `interval` until it holds, and throws ``WaitTimeout`` once `timeout` has passed.
///
/// `what` is read only when the wait times out, so a message that includes a log shows the log at that moment.
///
/// An error thrown by `condition` ends the wait, unless `retrying` says it only means "not yet" (a server that does
/// not listen yet). The default timeout is generous: it is only reached when the test fails, and a loaded 2-core
/// machine can take many seconds to open a repository and apply its first commit.
public func eventually(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(20),
    interval: Duration = .milliseconds(20),
    retrying: ((any Error) -> Bool)? = nil,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        do {
            if try await condition() { return }
        } catch {
            guard retrying?(error) == true else { throw error }
        }
        guard ContinuousClock.now < deadline else { throw WaitTimeout(what: what(), timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

/// A wait of ``eventually(_:timeout:interval:retrying:_:)`` that ran out of time.
public struct WaitTimeout: Error, CustomStringConvertible {
    /// What the test waited for.
    public let what: String
    /// How long it waited.
    public let timeout: Duration

    /// `timed out after <timeout> waiting until <what>`.
    public var description: String { "timed out after \(timeout) waiting until \(what)" }
}

//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import HalyardRules
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An attempt that was still running at its deadline.
struct AttemptTimeout: Error, CustomStringConvertible {
    var timeout: Duration

    var description: String { "timed out after \(DeliveryFailure.format(self.timeout))" }
}

/// Runs `operation` and returns its result, or cancels it and throws ``AttemptTimeout`` once `timeout` has passed.
///
/// Unlike a deadline handed to the HTTP client, this covers everything `operation` does: resolving the host, connecting,
/// sending, and reading the response body to its last byte.
func withDeadline<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard case .some(.some(let value)) = try await group.next() else {
            throw AttemptTimeout(timeout: timeout)
        }
        return value
    }
}

/// The words a failed attempt is recorded with in the delivery log and the log: short, stable, and free of the URL.
enum DeliveryFailure {
    /// Describes why an attempt failed.
    static func describe(_ error: any Error, timeout: Duration) -> String {
        switch error {
        case let error as DeliveryRefusal:
            return error.description
        case let error as HostResolutionError:
            return error.description
        case let error as AttemptTimeout:
            return error.description
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            return AttemptTimeout(timeout: timeout).description
        default:
            break
        }
        if Self.isConnectionRefused(error) {
            return "connection refused"
        }
        if let error = error as? IOError {
            return "connection failed: \(String(cString: strerror(error.errnoCode)))"
        }
        return String(describing: error)
    }

    /// Whether `error`, or an error it wraps, is `ECONNREFUSED`.
    ///
    /// NIO reports a failed connect as an `IOError`, or, for a host name, as a `NIOConnectionError` listing one failure
    /// per address; the latter lives in NIOPosix, so it is found by walking the error's stored properties.
    static func isConnectionRefused(_ error: any Error, depth: Int = 0) -> Bool {
        if let error = error as? IOError {
            return error.errnoCode == ECONNREFUSED
        }
        guard depth < 4 else { return false }
        for child in Mirror(reflecting: error).children {
            if let nested = child.value as? any Error, Self.isConnectionRefused(nested, depth: depth + 1) {
                return true
            }
            if let list = child.value as? [Any] {
                for item in list {
                    for field in Mirror(reflecting: item).children {
                        if let nested = field.value as? any Error, Self.isConnectionRefused(nested, depth: depth + 1) {
                            return true
                        }
                    }
                }
            }
        }
        return false
    }

    /// `10s`, `1.5s`.
    static func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        if seconds.rounded() == seconds {
            return "\(Int(seconds))s"
        }
        return "\(seconds)s"
    }
}

//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The file that keeps the last good flag set between runs, so a client starts with flags while Halyard is down.
///
/// The file is `{"format": "halyard-client-cache/1", "baseURL", "environment", "flagSet": <the flags body>}`. It is
/// written to a temporary file beside it, flushed and renamed over the old one, so a reader sees the old file or the
/// new one, never half of one. A file that is not JSON, of another format or of another environment is refused with
/// an error that names it; the client logs it and starts without flags.
struct CacheFile: Sendable {
    static let format = "halyard-client-cache/1"

    let path: String
    let baseURL: String
    let environment: String

    /// The flag set in the file; `nil` when there is no file.
    func read() throws(HalyardClientError) -> FlagSet? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(data))
        } catch {
            throw HalyardClientError(.cacheFile, subject: path, message: "the cache file is not JSON (\(error)); it is ignored")
        }
        guard case .string(Self.format)? = root["format"] else {
            throw HalyardClientError(.cacheFile, subject: path, message: "the file is not a Halyard client cache (\"format\" is not \"\(Self.format)\"); it is ignored")
        }
        guard case .string(environment)? = root["environment"] else {
            throw HalyardClientError(
                .cacheFile, subject: path, message: "the cache file holds another environment's flags, not \"\(environment)\"; it is ignored")
        }
        guard let flagSet = root["flagSet"] else {
            throw HalyardClientError(.cacheFile, subject: path, message: "the cache file has no \"flagSet\"; it is ignored")
        }
        let set: FlagSet
        do {
            // The body is kept byte for byte as Halyard sent it, so that the next write is the same file.
            var bytes: [UInt8] = []
            JSONWriter.appendCanonical(flagSet, to: &bytes)
            set = try FlagSet.decode(flagSet, body: bytes, source: path)
        } catch {
            throw HalyardClientError(.cacheFile, subject: path, message: "\(error.message); the cache file is ignored")
        }
        guard set.environment == environment else {
            throw HalyardClientError(
                .cacheFile, subject: path, message: "the cache file holds environment \"\(set.environment)\", not \"\(environment)\"; it is ignored")
        }
        return set
    }

    /// Replaces the file with `set`, atomically.
    func write(_ set: FlagSet) throws(HalyardClientError) {
        var json = JSONWriter(capacity: set.body.count + 256)
        json.objectStart()
        json.key("format")
        json.string(Self.format)
        json.key("baseURL")
        json.string(baseURL)
        json.key("environment")
        json.string(environment)
        json.key("flagSet")
        json.raw(bytes: set.body)
        json.objectEnd()
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        do {
            try Self.writeDurably(json.bytes, to: temporary)
        } catch {
            unlink(temporary)
            throw HalyardClientError(.cacheFile, subject: temporary, message: "cannot write the cache file: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw HalyardClientError(.cacheFile, subject: path, message: "cannot rename the new cache file into place: \(reason)")
        }
    }

    private static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: bytes)
        try handle.synchronize()
    }
}

import Foundation

/// An OpenSSH `known_hosts` file, read to check the host key an SSH remote presents (`repo.auth.knownHosts`).
///
/// Understood: one entry per line, `host-patterns key-type base64-key [comment]`; patterns separated by commas, `*` and
/// `?` wildcards, `!` negation, `[host]:port` for a port other than 22; the `@revoked` marker. Not understood, and
/// said so in the error when nothing else matched: hashed host names (`|1|…`, written by `ssh-keyscan -H` or
/// `HashKnownHosts yes`) and `@cert-authority` lines.
struct KnownHosts {
    /// One usable line of the file.
    struct Entry {
        var patterns: [String]
        var keyType: String
        var key: [UInt8]
        var revoked: Bool
    }

    /// The verdict for one presented key.
    enum Verdict: Equatable {
        case trusted
        /// No entry names the host.
        case unknownHost
        /// Entries name the host, with other keys (of these types).
        case mismatch(listedTypes: [String])
        /// The key is listed as `@revoked`.
        case revoked
    }

    let path: String
    private(set) var entries: [Entry] = []
    /// Lines skipped because Halyard cannot match them (hashed host names, `@cert-authority`).
    private(set) var unsupportedLines = 0

    /// Reads and parses `path`; nil when it cannot be read.
    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        self.init(path: path, contents: String(decoding: data, as: UTF8.self))
    }

    init(path: String, contents: String) {
        self.path = path
        for rawLine in contents.split(whereSeparator: \.isNewline) {
            var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                guard first == "@revoked" else {
                    unsupportedLines += 1
                    continue
                }
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
            if fields[0].hasPrefix("|") {
                unsupportedLines += 1
                continue
            }
            entries.append(Entry(patterns: fields[0].split(separator: ",").map(String.init), keyType: fields[1], key: Array(key), revoked: revoked))
        }
    }

    /// The name a host is listed under: `host` for port 22, `[host]:port` otherwise (OpenSSH's form).
    static func hostName(_ host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// Checks `key` (the SSH wire-format public key blob) presented by `host` on `port`.
    func verdict(host: String, port: Int, key: [UInt8]) -> Verdict {
        let name = Self.hostName(host, port: port)
        let matching = entries.filter { Self.matches(name, patterns: $0.patterns) }
        if matching.contains(where: { $0.revoked && $0.key == key }) { return .revoked }
        if matching.contains(where: { !$0.revoked && $0.key == key }) { return .trusted }
        let listed = matching.filter { !$0.revoked }
        return listed.isEmpty ? .unknownHost : .mismatch(listedTypes: listed.map(\.keyType))
    }

    /// OpenSSH's rule: a name matches when some positive pattern matches and no negated one does.
    static func matches(_ name: String, patterns: [String]) -> Bool {
        let name = Array(name.lowercased().utf8)
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(Array(pattern.dropFirst().lowercased().utf8)[...], name[...]) { return false }
            } else if glob(Array(pattern.lowercased().utf8)[...], name[...]) {
                matched = true
            }
        }
        return matched
    }

    /// OpenSSH's wildcards: `*` any run of characters, `?` one character; everything else, `[` included, is literal
    /// (so `fnmatch`, which reads `[127.0.0.1]` as a character class, would not do).
    private static func glob(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return name.isEmpty }
        switch first {
        case UInt8(ascii: "*"):
            var rest = name
            while true {
                if glob(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case UInt8(ascii: "?"):
            return !name.isEmpty && glob(pattern.dropFirst(), name.dropFirst())
        default:
            return name.first == first && glob(pattern.dropFirst(), name.dropFirst())
        }
    }

    /// The key type inside an SSH public key blob (its first length-prefixed string), e.g. `ssh-ed25519`.
    static func keyType(ofBlob blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = blob[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= blob.count - 4 else { return nil }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }

    /// The host and port of an SSH remote URL: `ssh://[user@]host[:port]/path` (also `ssh+git://`, `git+ssh://`, IPv6
    /// in brackets) or scp-like `[user@]host:path` (port 22).
    static func endpoint(ofURL url: String) -> (host: String, port: Int)? {
        var rest: Substring
        var scpLike = false
        if let range = url.range(of: "://") {
            rest = url[range.upperBound...]
        } else {
            rest = Substring(url)
            scpLike = true
        }
        if scpLike {
            // `[user@]host:path`: the host ends at the first colon (outside IPv6 brackets); the path may hold anything.
            if let colon = rest.firstIndex(of: ":"), !rest.contains("[") { rest = rest[..<colon] }
        } else if let slash = rest.firstIndex(of: "/") {
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !scpLike, after.hasPrefix(":"), let port = Int(after.dropFirst()) { return (host, port) }
            return (host, 22)
        }
        let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty else { return nil }
        if !scpLike, parts.count == 2 {
            guard let port = Int(parts[1]) else { return nil }
            return (String(host), port)
        }
        return (String(host), 22)
    }
}

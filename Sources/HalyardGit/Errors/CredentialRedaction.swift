/// Finds and hides credentials in remote URLs and in text that quotes them, so that no error, log line or status field
/// carries a token or a password.
///
/// A remote URL can carry credentials in its user info: `https://x-access-token:ghp_…@github.com/acme/flags.git`, or
/// just `https://ghp_…@github.com/…`, since GitHub takes a token as the user name. libgit2 quotes the URL it was given
/// (or was redirected to) in its messages, and HalyardGit quotes it in ``GitError/operation``, so every ``GitError`` is
/// passed through ``redact(_:)``.
///
/// ```swift
/// CredentialRedaction.redact("cannot clone https://x:s3cret@git.example.com/flags.git")
/// // "cannot clone https://x:***@git.example.com/flags.git"
/// CredentialRedaction.containsCredentials("ssh://git@github.com/acme/flags.git")   // false: a user name only
/// ```
public enum CredentialRedaction {
    /// What replaces a secret.
    public static let mask = "***"

    /// Whether `url` carries a secret in its user info: a password (`user:password@`), or, for `http` and `https`, any
    /// user info at all (a token given as the user name). An SSH user name (`ssh://git@host/…`, `git@host:path`) is not
    /// a secret.
    public static func containsCredentials(_ url: String) -> Bool {
        redact(url) != url
    }

    /// `text` with the secret part of every URL's user info replaced by ``mask``: `https://user:***@host`,
    /// `https://***@host` for a bare token, `ssh://git@host` unchanged.
    public static func redact(_ text: String) -> String {
        guard text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let separator = rest.firstRange(of: "://") {
            let schemeStart = rest[..<separator.lowerBound].lastIndex { !isSchemeCharacter($0) }.map { rest.index(after: $0) }
            let scheme = rest[(schemeStart ?? rest.startIndex)..<separator.lowerBound].lowercased()
            result += rest[..<separator.upperBound]
            rest = rest[separator.upperBound...]
            let authorityEnd = rest.firstIndex { endsAuthority($0) } ?? rest.endIndex
            guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { continue }
            let userInfo = rest[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                result += userInfo[..<colon] + ":" + mask
            } else if scheme == "http" || scheme == "https" {
                result += mask
            } else {
                result += userInfo
            }
            rest = rest[at...]
        }
        return result + rest
    }

    /// `text` with every occurrence of each secret replaced by ``mask``. Secrets shorter than 4 characters are left
    /// alone: masking every "a" in a message hides nothing and garbles it.
    public static func redact(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacing(secret, with: mask)
        }
        return result
    }

    private static func isSchemeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "+" || character == "-" || character == ".")
    }

    /// The characters that end a URL's authority (RFC 3986), or the URL itself where text quotes it. User info may
    /// hold `'`, `(`, `)` and `,`, so they do not end it: masking too much is harmless, too little is a leak.
    private static func endsAuthority(_ character: Character) -> Bool {
        switch character {
        case "/", "?", "#", "\"", "<", ">", "`": true
        default: character.isWhitespace
        }
    }
}

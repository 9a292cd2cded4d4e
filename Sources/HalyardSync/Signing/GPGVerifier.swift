import Foundation

/// Checks an OpenPGP commit signature with Debian's `gpgv` against one keyring file.
///
/// `gpgv` is given a private temporary directory as its home, the keyring, the signature and the signed data as files,
/// and `--status-fd 1`; its machine-readable status lines decide (`GOODSIG` with `VALIDSIG`, `BADSIG`, `ERRSIG`,
/// `NO_PUBKEY`, `EXPKEYSIG`, `REVKEYSIG`, `EXPSIG`). An ASCII-armored keyring (such as GitHub's `web-flow.gpg`), which
/// `gpgv` cannot read, is de-armored first.
struct GPGVerifier {
    let keyringPath: String
    let gpgvPath: String

    func verify(signature: [UInt8], signedData: [UInt8]) throws(SignatureConfigurationError) -> SignatureCheck {
        guard let keyring = FileManager.default.contents(atPath: keyringPath) else {
            throw SignatureConfigurationError(path: keyringPath, message: "cannot read the GPG keyring")
        }
        let binaryKeyring: [UInt8]
        do {
            binaryKeyring = try Self.dearmored(Array(keyring))
        } catch {
            throw SignatureConfigurationError(path: keyringPath, message: error.description)
        }
        let directory = try Self.makePrivateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try Data(binaryKeyring).write(to: URL(fileURLWithPath: directory + "/keyring.gpg"))
            try Data(signature).write(to: URL(fileURLWithPath: directory + "/commit.sig"))
            try Data(signedData).write(to: URL(fileURLWithPath: directory + "/commit.data"))
        } catch {
            throw SignatureConfigurationError(path: directory, message: "cannot write the files for gpgv: \(error)")
        }
        let outcome = try ChildProcess(
            executable: gpgvPath,
            arguments: [
                "--homedir", directory, "--status-fd", "1", "--keyring", directory + "/keyring.gpg",
                directory + "/commit.sig", directory + "/commit.data",
            ]
        ).run(outputIn: directory)
        return Self.interpret(statusLines: outcome.standardOutput, exitStatus: outcome.status, standardError: outcome.standardError)
    }

    /// Decides from gpgv's `[GNUPG:]` status lines.
    static func interpret(statusLines: String, exitStatus: Int32?, standardError: String) -> SignatureCheck {
        var good: (keyID: String, userID: String)?
        var validFingerprint: String?
        var failure: SignatureFailure?
        for line in statusLines.split(whereSeparator: \.isNewline) where line.hasPrefix("[GNUPG:] ") {
            let fields = line.dropFirst(9).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let keyword = fields.first else { continue }
            let rest = fields.count > 2 ? fields[2...].joined(separator: " ") : nil
            let keyID = fields.count > 1 ? fields[1] : nil
            // `DC1845BF8F3D3CAC (Flag Bot <bot@example.com>)`: the key id and, where gpgv gives it, the user id.
            let named = (keyID ?? "?") + (rest.map { " (\($0))" } ?? "")
            switch keyword {
            case "GOODSIG" where fields.count >= 2:
                good = (fields[1], rest ?? "")
            case "VALIDSIG" where fields.count >= 2:
                // The primary key's fingerprint is the tenth argument; older gpg versions may leave it out.
                validFingerprint = fields.count >= 11 ? fields[10] : fields[1]
            case "BADSIG":
                failure = SignatureFailure(
                    .badSignature,
                    "bad GPG signature by key \(named): the commit does not match its signature",
                    key: keyID,
                    signer: rest
                )
            case "EXPKEYSIG", "REVKEYSIG", "EXPSIG":
                let what = keyword == "EXPKEYSIG" ? "an expired key" : keyword == "REVKEYSIG" ? "a revoked key" : "an expired signature"
                failure =
                    failure
                    ?? SignatureFailure(
                        .badSignature,
                        "GPG signature by \(what) \(named)",
                        key: keyID,
                        signer: rest
                    )
            case "ERRSIG" where fields.count >= 7:
                let key = fields.count >= 8 && fields[7] != "-" ? fields[7] : fields[1]
                if fields[6] == "9" {
                    failure = failure ?? SignatureFailure(.unknownKey, "signed with GPG key \(key), which is not in repo.verify.gpgKeyring", key: key)
                } else {
                    failure =
                        failure
                        ?? SignatureFailure(
                            .badSignature,
                            "gpgv cannot check the GPG signature by key \(key) (error \(fields[6]), algorithm \(fields[2]))",
                            key: key
                        )
                }
            case "NO_PUBKEY" where fields.count >= 2:
                failure =
                    failure
                    ?? SignatureFailure(.unknownKey, "signed with GPG key \(fields[1]), which is not in repo.verify.gpgKeyring", key: fields[1])
            default:
                continue
            }
        }
        if let failure { return .failed(failure) }
        if let good, let validFingerprint, exitStatus == 0 {
            return .verified(Signer(method: .openPGP, name: good.userID, key: validFingerprint))
        }
        let detail =
            standardError.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(exitStatus.map(String.init) ?? "signal")"
        return .failed(SignatureFailure(.badSignature, "gpgv did not accept the GPG signature: \(detail)"))
    }

    /// The binary keyring: the file itself, or the decoded content of each `PUBLIC KEY BLOCK` when it is armored.
    static func dearmored(_ bytes: [UInt8]) throws(SignatureFormatProblem) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") else { return bytes }
        var output: [UInt8] = []
        var body: [String]?
        var inHeaders = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line == "-----BEGIN PGP PUBLIC KEY BLOCK-----" {
                body = []
                inHeaders = true
                continue
            }
            guard var lines = body else { continue }
            if line == "-----END PGP PUBLIC KEY BLOCK-----" {
                guard let decoded = Data(base64Encoded: lines.joined()) else {
                    throw SignatureFormatProblem("the armored GPG keyring is not valid base64")
                }
                output += decoded
                body = nil
                continue
            }
            if inHeaders {
                if line.isEmpty {
                    inHeaders = false
                    continue
                }
                if line.contains(": ") { continue }
                inHeaders = false
            }
            if line.isEmpty || line.hasPrefix("=") { continue }  // the CRC-24 checksum line
            lines.append(line)
            body = lines
        }
        guard !output.isEmpty else { throw SignatureFormatProblem("the armored GPG keyring holds no complete key block") }
        return output
    }

    private static func makePrivateDirectory() throws(SignatureConfigurationError) -> String {
        var template = Array((NSTemporaryDirectory() + "/halyard-gpgv-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw SignatureConfigurationError(path: NSTemporaryDirectory(), message: "cannot create a temporary directory for gpgv")
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

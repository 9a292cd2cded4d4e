import Crypto
import Foundation

/// An OpenSSH `sshsig` signature (`ssh-keygen -Y sign`, git's `gpg.format=ssh`), parsed from its armor.
///
/// The blob is `"SSHSIG"`, version 1, the public key, the namespace, a reserved string, the hash algorithm and the
/// signature. The signature covers `"SSHSIG"`, the namespace, the reserved string, the hash algorithm and the hash of
/// the signed data (OpenSSH's PROTOCOL.sshsig); git signs commits in the namespace `git`.
struct SSHSignature: Sendable {
    /// The signing key.
    let publicKey: SSHPublicKey
    /// The namespace the signature was made for; git's is `git`.
    let namespace: String
    /// `sha256` or `sha512`.
    let hashAlgorithm: String
    /// The signature field: `string algorithm, string blob`.
    let signature: [UInt8]
    private let reserved: [UInt8]

    private static let magic = Array("SSHSIG".utf8)
    private static let begin = "-----BEGIN SSH SIGNATURE-----"
    private static let end = "-----END SSH SIGNATURE-----"

    /// Parses an armored signature; throws what is wrong with it.
    init(armored: [UInt8]) throws(SignatureFormatProblem) {
        let text = String(decoding: armored, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.firstIndex(of: Self.begin), let last = lines.firstIndex(of: Self.end), first < last else {
            throw SignatureFormatProblem("the SSH signature armor is malformed")
        }
        guard let blob = Data(base64Encoded: lines[(first + 1)..<last].joined()) else {
            throw SignatureFormatProblem("the SSH signature is not valid base64")
        }
        var reader = SSHWireReader(blob)
        guard reader.read(count: 6) == Self.magic else { throw SignatureFormatProblem("the SSH signature does not start with SSHSIG") }
        guard let version = reader.readUInt32(), version == 1 else {
            throw SignatureFormatProblem("the SSH signature has an unknown version")
        }
        guard let keyBlob = reader.readString(), let key = SSHPublicKey(blob: keyBlob), let namespace = reader.readText(),
            let reserved = reader.readString(), let hashAlgorithm = reader.readText(), let signature = reader.readString(),
            reader.isAtEnd
        else {
            throw SignatureFormatProblem("the SSH signature is truncated or malformed")
        }
        self.publicKey = key
        self.namespace = namespace
        self.reserved = reserved
        self.hashAlgorithm = hashAlgorithm
        self.signature = signature
    }

    /// Whether the signature is valid for `data` in the namespace `git`; throws what prevents checking it.
    func verify(_ data: [UInt8]) throws(SignatureFormatProblem) -> Bool {
        guard namespace == "git" else {
            throw SignatureFormatProblem("the signature was made for the namespace '\(namespace)', not 'git'")
        }
        let digest: [UInt8]
        switch hashAlgorithm {
        case "sha512": digest = Array(SHA512.hash(data: data))
        case "sha256": digest = Array(SHA256.hash(data: data))
        default: throw SignatureFormatProblem("the signature uses the hash algorithm '\(hashAlgorithm)'; only sha256 and sha512 are accepted")
        }
        var message = SSHWireWriter()
        message.append(raw: Self.magic)
        message.append(text: namespace)
        message.append(string: reserved)
        message.append(text: hashAlgorithm)
        message.append(string: digest)
        return try publicKey.verify(signature: signature, of: message.bytes)
    }
}

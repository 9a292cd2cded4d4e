import Crypto
import CryptoExtras
import Foundation

/// An SSH public key as it appears in an `sshsig` signature and in `allowed_signers`: its wire blob, and what it
/// takes to check a signature with it.
///
/// Ed25519 and ECDSA (P-256, P-384, P-521) are checked with swift-crypto, RSA (`rsa-sha2-256`, `rsa-sha2-512`) with
/// swift-crypto's `_RSA` (PKCS #1 v1.5). Security-key types (`sk-…@openssh.com`) are recognised but not verified.
struct SSHPublicKey: Sendable, Equatable {
    /// The key's wire encoding (`string type, …`), the bytes `allowed_signers` carries in base64.
    let blob: [UInt8]
    /// The key type, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`.
    let type: String

    /// Reads the type from a wire blob; nil when the blob does not start with a type string.
    init?(blob: [UInt8]) {
        var reader = SSHWireReader(blob)
        guard let type = reader.readText(), !type.isEmpty else { return nil }
        self.blob = blob
        self.type = type
    }

    /// OpenSSH's fingerprint, `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    var fingerprint: String {
        var encoded = Data(SHA256.hash(data: blob)).base64EncodedString()
        while encoded.hasSuffix("=") { encoded.removeLast() }
        return "SHA256:" + encoded
    }

    /// The key type as `ssh-keygen -l` names it: `ED25519`, `ECDSA`, `RSA`, …
    var displayType: String {
        switch type {
        case "ssh-ed25519": return "ED25519"
        case "ssh-rsa": return "RSA"
        case let type where type.hasPrefix("ecdsa-sha2-"): return "ECDSA"
        case "sk-ssh-ed25519@openssh.com": return "ED25519-SK"
        case "sk-ecdsa-sha2-nistp256@openssh.com": return "ECDSA-SK"
        default: return type
        }
    }

    /// Whether `signature` (the `sshsig` signature field: `string algorithm, string blob`) is a valid signature of
    /// `message` by this key. Throws a description of what is wrong when the key or signature cannot be used at all.
    func verify(signature: [UInt8], of message: [UInt8]) throws(SignatureFormatProblem) -> Bool {
        var reader = SSHWireReader(signature)
        guard let algorithm = reader.readText(), let raw = reader.readString(), reader.isAtEnd else {
            throw SignatureFormatProblem("the signature field is malformed")
        }
        var key = SSHWireReader(blob)
        _ = key.readString()  // the type, already read
        switch type {
        case "ssh-ed25519":
            guard algorithm == "ssh-ed25519" else { throw .mismatch(algorithm, type) }
            guard let bytes = key.readString(), key.isAtEnd, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else {
                throw SignatureFormatProblem("the ED25519 key is malformed")
            }
            return publicKey.isValidSignature(raw, for: message)
        case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            guard algorithm == type else { throw .mismatch(algorithm, type) }
            guard key.readText() != nil, let point = key.readString(), key.isAtEnd else {
                throw SignatureFormatProblem("the ECDSA key is malformed")
            }
            var values = SSHWireReader(raw)
            guard let r = values.readUnsignedMPInt(), let s = values.readUnsignedMPInt(), values.isAtEnd else {
                throw SignatureFormatProblem("the ECDSA signature is malformed")
            }
            return try Self.verifyECDSA(type: type, point: point, r: r, s: s, message: message)
        case "ssh-rsa":
            guard let exponent = key.readUnsignedMPInt(), let modulus = key.readUnsignedMPInt(), key.isAtEnd else {
                throw SignatureFormatProblem("the RSA key is malformed")
            }
            let publicKey: _RSA.Signing.PublicKey
            do {
                publicKey = try _RSA.Signing.PublicKey(n: modulus, e: exponent)
            } catch {
                throw SignatureFormatProblem("the RSA key cannot be used (\(modulus.count * 8) bits; at least 2048 are needed)")
            }
            let signature = _RSA.Signing.RSASignature(rawRepresentation: raw)
            switch algorithm {
            case "rsa-sha2-512":
                return publicKey.isValidSignature(signature, for: SHA512.hash(data: message), padding: .insecurePKCS1v1_5)
            case "rsa-sha2-256":
                return publicKey.isValidSignature(signature, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
            default:
                throw SignatureFormatProblem("the RSA signature uses \(algorithm); only rsa-sha2-256 and rsa-sha2-512 are accepted")
            }
        default:
            throw SignatureFormatProblem("keys of type \(type) are not supported")
        }
    }

    private static func verifyECDSA(type: String, point: [UInt8], r: [UInt8], s: [UInt8], message: [UInt8]) throws(SignatureFormatProblem) -> Bool {
        func raw(_ size: Int) -> [UInt8]? {
            guard r.count <= size, s.count <= size else { return nil }
            return [UInt8](repeating: 0, count: size - r.count) + r + [UInt8](repeating: 0, count: size - s.count) + s
        }
        do {
            switch type {
            case "ecdsa-sha2-nistp256":
                guard let raw = raw(32) else { return false }
                let key = try P256.Signing.PublicKey(x963Representation: point)
                return key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: raw), for: SHA256.hash(data: message))
            case "ecdsa-sha2-nistp384":
                guard let raw = raw(48) else { return false }
                let key = try P384.Signing.PublicKey(x963Representation: point)
                return key.isValidSignature(try P384.Signing.ECDSASignature(rawRepresentation: raw), for: SHA384.hash(data: message))
            default:
                guard let raw = raw(66) else { return false }
                let key = try P521.Signing.PublicKey(x963Representation: point)
                return key.isValidSignature(try P521.Signing.ECDSASignature(rawRepresentation: raw), for: SHA512.hash(data: message))
            }
        } catch {
            throw SignatureFormatProblem("the ECDSA key or signature is malformed")
        }
    }
}

/// Why a signature or key cannot be used at all (as opposed to checking it and failing): malformed, or of an unsupported
/// algorithm.
struct SignatureFormatProblem: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    static func mismatch(_ algorithm: String, _ type: String) -> Self {
        Self("the signature algorithm \(algorithm) does not belong to a key of type \(type)")
    }
}

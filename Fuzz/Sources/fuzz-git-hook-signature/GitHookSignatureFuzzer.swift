//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import FuzzSupport
import HTTPTypes
import HalyardServer
import NIOCore

/// Fuzzes ``HTTPAPI/verifyGitHook(headers:body:secret:)``, the check of `POST /v1/hooks/git`.
///
/// The first byte picks a mode. Even: a secret and body come from the input; GitHub's `X-Hub-Signature-256` of the
/// body passes (in either hex case, with surrounding spaces), and changing one byte of the body, one hex digit or the
/// secret fails, as does a wrong `X-Gitlab-Token`. Odd: the headers, secret and body are raw input; nothing crashes,
/// a failure is a 401, and a pass means the signature or token really matches.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzReader(fuzzBytes(data, size))
    if input.byte() % 2 == 0 {
        checkSignedHook(&input)
    } else {
        checkRawHeaders(&input)
    }
    return 0
}

private let hubSignature = HTTPField.Name("X-Hub-Signature-256")!
private let gitlabToken = HTTPField.Name("X-Gitlab-Token")!

/// Whether the hook check passes, and a failure is a 401.
private func passes(_ headers: HTTPFields, body: [UInt8], secret: String) -> Bool {
    do {
        try HTTPAPI.verifyGitHook(headers: headers, body: ByteBuffer(bytes: body), secret: secret)
        return true
    } catch {
        invariant(error.status == .unauthorized, "a failed hook check answers \(error)")
        return false
    }
}

/// GitHub's `sha256=<lower-case hex HMAC-SHA256(secret, body)>`.
private func hubSignatureValue(_ body: [UInt8], secret: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
    let digits = Array("0123456789abcdef".utf8)
    var text = Array("sha256=".utf8)
    for byte in mac {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

private func checkSignedHook(_ input: inout FuzzReader) {
    var secret = String(decoding: input.field(maximumLength: 64), as: UTF8.self)
    if secret.isEmpty { secret = "s" }
    let change = input.byte()
    let body = input.rest()
    let signature = hubSignatureValue(body, secret: secret)

    invariant(passes([hubSignature: signature], body: body, secret: secret), "GitHub's signature does not pass: \(signature)")
    invariant(passes([hubSignature: "sha256=" + signature.dropFirst(7).uppercased()], body: body, secret: secret), "upper-case hex fails")
    invariant(passes([hubSignature: " \t" + signature + " "], body: body, secret: secret), "a signature with surrounding spaces fails")
    invariant(!passes([hubSignature: signature], body: body + [change], secret: secret), "a body with a byte appended passes")
    if !body.isEmpty {
        var changed = body
        changed[Int(change) % body.count] ^= 0x01 | change
        invariant(!passes([hubSignature: signature], body: changed, secret: secret), "a body with one byte changed passes")
    }
    var digits = Array(signature.utf8)
    let position = 7 + Int(change) % 64
    digits[position] = digits[position] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    invariant(!passes([hubSignature: String(decoding: digits, as: UTF8.self)], body: body, secret: secret), "a changed hex digit passes")
    invariant(!passes([hubSignature: String(signature.dropLast(2))], body: body, secret: secret), "a truncated signature passes")
    invariant(!passes([hubSignature: signature], body: body, secret: secret + "x"), "a signature passes with another secret")
    invariant(
        !passes([hubSignature: signature, gitlabToken: secret], body: body + [change], secret: secret),
        "a correct GitLab token outweighs a wrong GitHub signature"
    )
    invariant(!passes([:], body: body, secret: secret), "a hook without a signature passes")
    invariant(!passes([gitlabToken: secret + "x"], body: body, secret: secret), "a wrong GitLab token passes")
    if HTTPField.isValidValue(secret) {
        invariant(passes([gitlabToken: secret], body: body, secret: secret), "the GitLab token fails")
    }
}

private func checkRawHeaders(_ input: inout FuzzReader) {
    var headers = HTTPFields()
    let secret = String(decoding: input.field(maximumLength: 64), as: UTF8.self)
    let fields = input.byte() % 4
    for _ in 0..<fields {
        let name = input.byte() % 2 == 0 ? hubSignature : gitlabToken
        headers.append(HTTPField(name: name, lenientValue: input.field()))
    }
    let body = input.rest()
    guard !secret.isEmpty, passes(headers, body: body, secret: secret) else { return }
    if let signature = headers[hubSignature] {
        let trimmed = signature.trimmingSpacesAndTabs
        invariant(trimmed.lowercased() == hubSignatureValue(body, secret: secret), "accepted the signature \(signature)")
    } else {
        invariant(headers[gitlabToken] == secret, "accepted the token \(headers[gitlabToken] ?? "")")
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs, as the hook check reads a signature.
    fileprivate var trimmingSpacesAndTabs: Substring {
        var result = Substring(self)
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

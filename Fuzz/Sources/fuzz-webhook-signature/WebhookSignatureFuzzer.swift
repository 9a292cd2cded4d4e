//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import FuzzSupport
import HalyardNotify

/// Fuzzes Standard Webhooks signing and ``WebhookSigner/isValidSignature(_:id:timestamp:body:now:tolerance:)``.
///
/// The first byte picks a mode. Even: a secret, id, timestamp and body come from the input; the signature Halyard
/// sends verifies, and changing any one byte of the body, id, timestamp, MAC or secret makes it fail, as does a
/// timestamp one second past the tolerance. Odd: every header and the secret are raw input; nothing crashes, and a
/// request that verifies has a fresh decimal timestamp.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzReader(fuzzBytes(data, size))
    if input.byte() % 2 == 0 {
        checkSignedRequest(&input)
    } else {
        checkRawHeaders(&input)
    }
    return 0
}

private func checkSignedRequest(_ input: inout FuzzReader) {
    var key = input.field(maximumLength: 64)
    if key.isEmpty { key = [0] }
    let id = String(decoding: input.field(maximumLength: 64), as: UTF8.self)
    let timestamp = input.field(maximumLength: 5).reduce(0) { $0 << 8 | Int($1) }
    let change = input.byte()
    let body = input.rest()
    let secret = WebhookSigner.secretPrefix + Data(key).base64EncodedString()
    guard let signer = try? WebhookSigner(secret: secret) else {
        invariant(false, "a well-formed secret is refused: \(secret)")
        return
    }
    let signature = signer.signature(id: id, timestamp: timestamp, body: body)
    let sent = SignedRequest(header: signature, id: id, timestamp: String(timestamp), body: body, now: timestamp)
    func verifies(_ edit: (inout SignedRequest) -> Void = { _ in }) -> Bool {
        var request = sent
        edit(&request)
        return signer.isValidSignature(request.header, id: request.id, timestamp: request.timestamp, body: request.body, now: request.now)
    }
    let tolerance = WebhookSigner.defaultTimestampTolerance

    invariant(verifies(), "Halyard's own signature does not verify")
    invariant(verifies { $0.header = "v0,AAAA  \(signature) v1,x" }, "a valid signature among others does not verify")
    invariant(verifies { $0.now += tolerance }, "a timestamp at the tolerance is refused")
    invariant(verifies { $0.timestamp = "0" + $0.timestamp }, "a timestamp with a leading zero is refused")
    invariant(!verifies { $0.now += tolerance + 1 }, "a stale timestamp is accepted")
    invariant(!verifies { $0.now -= tolerance + 1 }, "a timestamp from the future is accepted")
    invariant(!verifies { $0.header = "v2," + signature.dropFirst(3) }, "a signature of another version is accepted")
    invariant(!verifies { $0.id += "x" }, "a changed id is accepted")
    invariant(!verifies { $0.timestamp = String(timestamp + 1) }, "a changed timestamp is accepted")
    invariant(!verifies { $0.header = "" }, "an empty signature header is accepted")
    if !body.isEmpty {
        invariant(!verifies { $0.body[Int(change) % body.count] ^= 0x01 | change }, "a body with one byte changed is accepted")
    }
    invariant(!verifies { $0.body.append(change) }, "a body with a byte appended is accepted")
    if var mac = Data(base64Encoded: String(signature.dropFirst(3))), !mac.isEmpty {
        mac[Int(change) % mac.count] ^= 0x01 | change
        invariant(!verifies { $0.header = "v1," + mac.base64EncodedString() }, "a MAC with one byte changed is accepted")
    } else {
        invariant(false, "Halyard's signature is not v1,<base64>: \(signature)")
    }
    var otherKey = key
    otherKey[Int(change) % key.count] ^= 0x01 | change
    let otherSecret = WebhookSigner.secretPrefix + Data(otherKey).base64EncodedString()
    if let other = try? WebhookSigner(secret: otherSecret) {
        let valid = other.isValidSignature(signature, id: id, timestamp: String(timestamp), body: body, now: timestamp)
        invariant(!valid, "a signature verifies with another secret")
    }
}

/// The headers and body of one webhook request, and the receiver's clock.
private struct SignedRequest {
    var header: String
    var id: String
    var timestamp: String
    var body: [UInt8]
    var now: Int
}

private func checkRawHeaders(_ input: inout FuzzReader) {
    let secret = String(decoding: input.field(), as: UTF8.self)
    let id = String(decoding: input.field(), as: UTF8.self)
    let timestamp = String(decoding: input.field(maximumLength: 24), as: UTF8.self)
    let signatures = String(decoding: input.field(), as: UTF8.self)
    let now = input.field(maximumLength: 8).reduce(0) { $0 << 8 | Int($1) }
    let body = input.rest()
    guard let signer = try? WebhookSigner(secret: secret) else { return }
    if signer.isValidSignature(signatures, id: id, timestamp: timestamp, body: body, now: now) {
        let seconds = Int(timestamp)
        invariant(seconds != nil && timestamp.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }, "accepted timestamp \(timestamp)")
        invariant(abs(now - (seconds ?? 0)) <= WebhookSigner.defaultTimestampTolerance, "accepted a stale timestamp \(timestamp)")
        invariant(
            signatures.contains(String(signer.signature(id: id, timestamp: seconds ?? 0, body: body).dropFirst(3)).prefix(40)),
            "accepted a signature header without Halyard's signature"
        )
    }
}

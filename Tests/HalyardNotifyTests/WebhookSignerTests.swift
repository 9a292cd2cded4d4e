//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify
import Testing

struct WebhookSignerTests {
    @Test func testStandardWebhooksVector() throws {
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = signer.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330,
            body: Array(#"{"test": 2432232314}"#.utf8)
        )
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func testSignatureDependsOnEveryPart() throws {
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let reference = signer.signature(id: "msg_1", timestamp: 1, body: body)
        #expect(signer.signature(id: "msg_2", timestamp: 1, body: body) != reference)
        #expect(signer.signature(id: "msg_1", timestamp: 2, body: body) != reference)
        #expect(signer.signature(id: "msg_1", timestamp: 1, body: body + [0x20]) != reference)
    }

    /// Pairs of different secrets that are malformed the same way. The error of each pair reads the same, so it
    /// carries nothing of the secret, whatever its length (a substring check proves nothing for `whsec`).
    @Test(arguments: [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "c2VjcmV0LXdpdGhvdXQtcHJlZml4"),
        ("whsec", "wh"),
        ("whsec_", "whsec_!!"),
        ("whsec_not base64!", "whsec_also*not*base64"),
    ])
    func testRejectsMalformedSecretsWithoutRepeatingThem(secret: String, sameKind: String) {
        #expect(throws: NotifyError.self) { try WebhookSigner(secret: secret) }
        let described = [secret, sameKind].map { secret -> NotifyError? in
            do throws(NotifyError) {
                _ = try WebhookSigner(secret: secret)
                return nil
            } catch {
                return error
            }
        }
        #expect(described.allSatisfy { $0?.code == .invalidSecret })
        #expect(described[0]?.description != nil)
        #expect(described[0]?.description == described[1]?.description, "the error depends on the secret")
    }

    @Test func testVerifiesTheStandardWebhooksVector() throws {
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        func verifies(_ header: String, timestamp: String = "1614265330", body: [UInt8] = body, now: Int = 1_614_265_330) -> Bool {
            signer.isValidSignature(header, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: timestamp, body: body, now: now)
        }
        #expect(verifies(signature))
        #expect(verifies("v1a,xyz v1,AAAA \(signature)"))
        #expect(verifies(signature, now: 1_614_265_330 + 300))
        #expect(!verifies(signature, now: 1_614_265_330 + 301))
        #expect(!verifies(signature, now: 1_614_265_330 - 301))
        #expect(!verifies(signature, body: body + [0x20]))
        #expect(!verifies("v2," + signature.dropFirst(3)))
        #expect(!verifies(""))
    }

    @Test(arguments: ["", "-1614265330", "+1614265330", "1614265330.0", " 1614265330", "9223372036854775807", "99999999999999999999"])
    func testRefusesMalformedTimestamps(timestamp: String) throws {
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = signer.signature(id: "msg_1", timestamp: Int(timestamp) ?? 0, body: body)
        #expect(!signer.isValidSignature(signature, id: "msg_1", timestamp: timestamp, body: body, now: Int.min))
        #expect(!signer.isValidSignature(signature, id: "msg_1", timestamp: timestamp, body: body, now: Int(timestamp) ?? 0))
    }

    /// Foundation on Linux decodes `"===="` as one zero byte; a secret of padding alone must still be refused.
    @Test(arguments: ["whsec_====", "whsec_=", "whsec_AA=A", "whsec_A"])
    func testRefusesSecretsThatAreNotCanonicalBase64(secret: String) {
        #expect(throws: NotifyError.self) { try WebhookSigner(secret: secret) }
    }

    @Test func testGeneratedSecretsAreValidAndDistinct() throws {
        let first = WebhookSigner.generateSecret()
        let second = WebhookSigner.generateSecret()
        #expect(first.hasPrefix("whsec_"))
        #expect(first != second)
        _ = try WebhookSigner(secret: first)
    }
}

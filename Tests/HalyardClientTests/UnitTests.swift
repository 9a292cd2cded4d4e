//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import Synchronization
import HalyardTesting
import Testing

@testable import HalyardClient

struct EventStreamParserTests {
    @Test func testEventsSplitAcrossChunksAndLineEndings() {
        var parser = EventStreamParser()
        var events: [ServerSentEvent] = []
        let text = ": connected\n\nid: c1\nevent: flags-changed\ndata: {\"a\":\r\ndata: 1}\r\n\r\n: keep-alive\r\rid: c2\revent: flags-changed\rdata:x\r\r"
        for byte in text.utf8 {
            events += parser.feed([byte])
        }
        #expect(events == [
            ServerSentEvent(id: "c1", type: "flags-changed", data: "{\"a\":\n1}"),
            ServerSentEvent(id: "c2", type: "flags-changed", data: "x"),
        ])
    }

    @Test func testAnEventWithoutDataIsNotDispatchedAndTheTypeDefaultsToMessage() {
        var parser = EventStreamParser()
        #expect(parser.feed(Array("event: ping\n\ndata: hello\n\n".utf8)) == [ServerSentEvent(id: nil, type: "message", data: "hello")])
    }
}

struct WebhookVerifierTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test func testTheStandardWebhooksExampleVerifies() throws {
        // The example of the Standard Webhooks specification, signed by Halyard's own signer.
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let verifier = try WebhookVerifier(secrets: [Self.secret])
        let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        #expect(try WebhookSigner(secret: Self.secret).signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body) == signature)
        #expect(verifier.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: signature, body: body, now: 1614265330) == .valid)
        #expect(verifier.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: signature, body: body, now: 1614265330) == .replayed)
        #expect(verifier.verify(id: "msg_other", timestamp: "1614265330", signature: signature, body: body, now: 1614265330) == .invalidSignature)
        #expect(verifier.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: signature, body: body + [0x20], now: 1614265330)
            == .invalidSignature)
    }

    @Test func testTolerance() throws {
        let body = Array("{}".utf8)
        let signer = try WebhookSigner(secret: Self.secret)
        let verifier = try WebhookVerifier(secrets: ["whsec_" + Data(repeating: 1, count: 24).base64EncodedString(), Self.secret])
        let now = 1_800_000_000
        for (offset, expected) in [(0, WebhookVerifier.Result.valid), (300, .valid), (-300, .valid), (301, .expired), (-301, .expired)] {
            let id = "msg_\(offset)"
            let timestamp = now + offset
            let result = verifier.verify(
                id: id, timestamp: String(timestamp), signature: "v0,abc " + signer.signature(id: id, timestamp: timestamp, body: body), body: body, now: now)
            #expect(result == expected, "offset \(offset)")
        }
        #expect(verifier.verify(id: "m", timestamp: "12x", signature: "v1,AAAA", body: body, now: now) == .invalidSignature)
    }

    @Test func testMalformedSecretsAreRefusedWithTheirPosition() {
        for secret in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!!!", "whsec_===="] {
            #expect(throws: HalyardClientError.self) { try WebhookVerifier(secrets: [Self.secret, secret]) }
            do {
                _ = try WebhookVerifier(secrets: [Self.secret, secret])
            } catch {
                #expect(error.subject == "webhookSecrets[1]")
            }
        }
    }
}

struct RefreshCoalescerTests {
    @Test func testConcurrentRefreshesShareOneFetchAfterTheRunningOne() async throws {
        let runs = Mutex(0)
        let gate = AsyncStream.makeStream(of: Void.self)
        let started = AsyncStream.makeStream(of: Void.self)
        let coalescer = RefreshCoalescer {
            let run = runs.withLock { value -> Int in
                value += 1
                return value
            }
            started.continuation.yield()
            if run == 1 {
                for await _ in gate.stream { break }
            }
        }
        var startedEvents = started.stream.makeAsyncIterator()
        let first = Task { await coalescer.refresh() }
        await startedEvents.next()
        // While the first fetch runs, ten more refreshes are asked for: they share one fetch after it.
        let others = (0..<10).map { _ in Task { await coalescer.refresh() } }
        try await eventually("the others are queued") { await coalescer.pendingCallers == 10 }
        gate.continuation.yield()
        await first.value
        for other in others { await other.value }
        #expect(runs.withLock { $0 } == 2)
    }
}

struct BackoffTests {
    @Test func testDoublesUpToTheLargestWithJitterAndResets() {
        var backoff = ReconnectBackoff(.milliseconds(100) ... .seconds(1))
        let waits = (0..<6).map { _ in backoff.next() }
        for (index, wait) in waits.enumerated() {
            let ceiling = min(Duration.milliseconds(100) * (1 << index), .seconds(1))
            #expect(wait >= ceiling / 2 && wait <= ceiling, "attempt \(index): \(wait)")
        }
        backoff.reset()
        #expect(backoff.next() <= .milliseconds(100))
    }
}

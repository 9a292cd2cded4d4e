//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules
import Synchronization
import Testing

@_spi(Benchmarks) @testable import HalyardClient

/// A flags body of `count` flags: `flag-0` … whose typed value is its index plus `generation`, and `generation`, a
/// typed flag that serves the generation.
private func flagSet(generation: Int, count: Int = 3) throws -> FlagSet {
    var flags: [String] = []
    for index in 0..<count {
        flags.append(#""flag-\#(index)": {"active": true, "variants": {"v": \#(index + generation)}, "defaultVariant": "v", "rules": []}"#)
    }
    flags.append(#""generation": {"active": true, "variants": {"v": \#(generation)}, "defaultVariant": "v", "rules": []}"#)
    flags.append(#""on": {"active": true, "rules": [[]]}"#)
    let body = #"{"environment": "production", "commit": "c\#(generation)", "digest": "d\#(generation)", "flags": {\#(flags.joined(separator: ", "))}}"#
    return try FlagSet.decode(Array(body.utf8), source: "test")
}

struct FlagLookupTests {
    @Test func testEveryIdIsFoundInPlaceAndUnknownIdsAreNot() throws {
        // 1,000 flags fill a table of 2,048 slots: probing chains are long enough to exercise collisions.
        let set = try flagSet(generation: 0, count: 1000)
        for index in 0..<1000 {
            let flag = try #require(set.lookup.withFlag("flag-\(index)", ifMissing: nil) { $0.flag })
            #expect(flag.id == "flag-\(index)")
            #expect(flag.value(of: flag.resolve([:])) == .number(JSONNumber(Double(index))))
        }
        for unknown in ["", "flag-1000", "flag-", "Flag-1", "a-much-longer-flag-id-than-fits-in-a-small-string", "generation "] {
            #expect(set.lookup.withFlag(unknown, ifMissing: nil) { $0.flag.id } == nil)
        }
        #expect(set.lookup.withFlag("generation", ifMissing: nil) { $0.flag.id } == "generation")
    }

    @Test func testAnEmptySetFindsNothing() throws {
        let set = try FlagSet.decode(Array(#"{"environment": "production", "commit": "c", "digest": "d", "flags": {}}"#.utf8), source: "test")
        #expect(set.lookup.withFlag("anything", ifMissing: false) { _ in true } == false)
    }
}

/// What the reader threads of the swap test share.
private final class Probe: Sendable {
    let newestSeen = Atomic<Int>(0)
    let done = Atomic<Bool>(false)
    let violations = Atomic<Int>(0)
    let evaluations = Atomic<Int>(0)
}

struct FlagSetCellTests {
    @Test func testEvaluationsBeforeTheFirstSetGiveTheDefault() throws {
        let client = try HalyardClient(configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production"))
        #expect(client.bool("on", default: false) == false)
        #expect(client.intDetails("generation", default: -1).errorCode == .providerNotReady)
        client.install(try flagSet(generation: 7))
        #expect(client.bool("on", default: false) == true)
        #expect(client.int("generation", default: -1) == 7)
        #expect(client.intDetails("missing", default: -1).errorCode == .flagNotFound)
        #expect(client.string("generation", default: "x") == "x")
    }

    /// Four threads evaluate while the set is replaced 300 times: every thread sees the generations in order, and once
    /// any thread has seen a generation no thread that starts an evaluation afterwards sees an older one (the swap is
    /// atomic across the reader slots).
    @Test func testReadersNeverSeeAnOlderSetThanOneAlreadySeen() async throws {
        let sets = try (0...300).map { try flagSet(generation: $0) }
        let client = try HalyardClient(configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production"))
        client.install(sets[0])
        let probe = Probe()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    // A thread of its own, so that the readers use different slots and really run in parallel.
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        Thread { [client, probe] in
                            var last = 0
                            var count = 0
                            while !probe.done.load(ordering: .acquiring) {
                                let before = probe.newestSeen.load(ordering: .acquiring)
                                let seen = client.int("generation", default: -1)
                                if seen < before || seen < last { probe.violations.add(1, ordering: .relaxed) }
                                if client.int("flag-2", default: -1) < 0 { probe.violations.add(1, ordering: .relaxed) }
                                last = seen
                                probe.newestSeen.max(seen, ordering: .releasing)
                                count += 1
                            }
                            probe.evaluations.add(count, ordering: .relaxed)
                            continuation.resume()
                        }.start()
                    }
                }
            }
            for set in sets.dropFirst() {
                client.install(set)
                try? await Task.sleep(for: .microseconds(200))
            }
            probe.done.store(true, ordering: .releasing)
        }
        #expect(probe.violations.load(ordering: .relaxed) == 0)
        #expect(probe.evaluations.load(ordering: .relaxed) > 0)
        #expect(client.int("generation", default: -1) == 300)
    }
}

//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify
import HalyardSync
import Testing

struct EnvironmentChangeTests {
    @Test func testListsAreDerivedFromFingerprints() {
        let change = Fixtures.change(
            "production",
            "c2",
            from: "c1",
            ["b-new": (nil, "f1"), "a-new": (nil, "f2"), "gone": ("f3", nil), "edited": ("f4", "f5"), "same": ("f6", "f6")]
        )
        #expect(change.added == ["a-new", "b-new"])
        #expect(change.removed == ["gone"])
        #expect(change.changed == ["edited"])
        #expect(!change.isEmpty)
    }

    @Test func testEqualFingerprintsAreEmpty() {
        #expect(Fixtures.change("production", "c2", from: "c1", ["same": ("f", "f")]).isEmpty)
        #expect(Fixtures.change("production", "c2", from: "c1", [:]).isEmpty)
    }

    @Test func testCoalesceComputesTheNetChange() throws {
        let older = Fixtures.change(
            "production",
            "c2",
            from: "c1",
            ["x": (nil, "x1"), "y": ("y0", "y1"), "z": ("z0", nil), "v": ("v0", "v1")]
        )
        let newer = Fixtures.change(
            "production",
            "c3",
            from: "c2",
            ["x": ("x1", nil), "y": ("y1", "y2"), "w": (nil, "w1"), "v": ("v1", "v0"), "u": ("u0", "u1")]
        )
        let merged = try #require(EnvironmentChange.coalesce(older, newer))
        #expect(merged.previousCommit == "c1")
        #expect(merged.commit == "c3")
        #expect(merged.added == ["w"])
        #expect(merged.removed == ["z"])
        #expect(merged.changed == ["u", "y"])
        #expect(merged.transitions["y"] == FlagTransition(before: "y0", after: "y2"))
        #expect(merged.transitions["x"] == nil)  // added then removed
        #expect(merged.transitions["v"] == nil)  // changed and changed back
    }

    @Test func testCoalesceOfARevertIsNil() {
        let older = Fixtures.change("production", "c2", from: "c1", ["x": (nil, "x1"), "y": ("y0", "y1")])
        let newer = Fixtures.change("production", "c3", from: "c2", ["x": ("x1", nil), "y": ("y1", "y0")])
        #expect(EnvironmentChange.coalesce(older, newer) == nil)
    }

    @Test func testRemovedThenAddedAgainIsChangedOrNothing() throws {
        let older = Fixtures.change("production", "c2", from: "c1", ["x": ("x0", nil)])
        let readded = Fixtures.change("production", "c3", from: "c2", ["x": (nil, "x9")])
        #expect(try #require(EnvironmentChange.coalesce(older, readded)).changed == ["x"])
        let restored = Fixtures.change("production", "c3", from: "c2", ["x": (nil, "x0")])
        #expect(EnvironmentChange.coalesce(older, restored) == nil)
    }
}

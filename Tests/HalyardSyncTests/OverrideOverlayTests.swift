//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules
import HalyardTesting
import Testing

@testable import HalyardSync

/// The overlay of an override and the patch that makes it permanent agree: parsing the patched file gives the very
/// flag the overlay serves, so the commit of the patch changes nothing served.
@Suite struct OverrideOverlayTests {
    static let booleanFiles = [
        """
        {
          "name": "New checkout",
          "active": true,
          "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}]]
        }

        """,
        #"{"active": false, "rules": [[]], "metadata": {"owner": "web"}}"#,
        "{\n\t\"rules\" : [ [ ] ] ,\n\t\"active\":true\n}",
    ]

    static let typedFile = """
        {
          "active": false,
          "variants": {
            "classic": "classic",
            "compact": "compact"
          },
          "defaultVariant": "classic",
          "rules": [
            {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "free"}], "serve": "compact"}
          ],
          "metadata": {"rules": "not these"}
        }
        """

    @Test(arguments: booleanFiles, [true, false])
    func theActivePatchParsesToTheOverlaidFlag(text: String, active: Bool) throws {
        try expectAgreement(text: text, setting: .active(active))
    }

    @Test(arguments: ["classic", "compact"])
    func theVariantPatchParsesToTheOverlaidFlag(variant: String) throws {
        try expectAgreement(text: Self.typedFile, setting: .variant(variant))
        let patch = try #require(FlagFilePatch(path: "flags/p/layout.json", text: Self.typedFile, setting: .variant(variant)))
        #expect(patch.patched.contains(#""rules": []"#))
        #expect(patch.patched.contains(#""metadata": {"rules": "not these"}"#))
    }

    @Test func aVariantOfABooleanFlagOrAnUnknownVariantIsNoOverride() throws {
        let boolean = try #require(FlagDecoder.decode(Self.booleanFiles[0], id: "x", file: "x.json").flag)
        #expect(OverrideOverlay.overridden(boolean, .variant("on")) == nil)
        let typed = try #require(FlagDecoder.decode(Self.typedFile, id: "x", file: "x.json").flag)
        #expect(OverrideOverlay.overridden(typed, .variant("wide")) == nil)
    }

    @Test func theDiffIsOneHunkWithContext() throws {
        let patch = try #require(FlagFilePatch(path: "flags/p/f.json", text: Self.booleanFiles[0], setting: .active(false)))
        #expect(
            patch.unifiedDiff == """
                diff --git a/flags/p/f.json b/flags/p/f.json
                --- a/flags/p/f.json
                +++ b/flags/p/f.json
                @@ -1,5 +1,5 @@
                 {
                   "name": "New checkout",
                -  "active": true,
                +  "active": false,
                   "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}]]
                 }

                """
        )
    }

    @Test func aFileWithoutAFinalNewlineSaysSo() throws {
        let patch = try #require(FlagFilePatch(path: "f.json", text: #"{"active": true, "rules": []}"#, setting: .active(false)))
        #expect(patch.unifiedDiff.hasSuffix("+{\"active\": false, \"rules\": []}\n\\ No newline at end of file\n"))
    }

    @Test func expiresInIsAWholeNumberAndAUnitUpToSevenDays() {
        #expect(OverrideDuration("30m")?.seconds == 1_800)
        #expect(OverrideDuration("1s")?.seconds == 1)
        #expect(OverrideDuration("7d")?.seconds == 604_800)
        #expect(OverrideDuration("168h")?.seconds == 604_800)
        for bad in ["8d", "169h", "0m", "-1h", "1.5h", "h", "", "10", "1w", " 1h"] {
            #expect(OverrideDuration(bad) == nil, "\(bad)")
        }
    }

    /// The patched file decodes to the overlaid flag, with the same fingerprints.
    private func expectAgreement(text: String, setting: FlagOverride.Setting) throws {
        let committed = try #require(FlagDecoder.decode(text, id: "f", file: "flags/p/f.json").flag)
        let overlaid = try #require(OverrideOverlay.overridden(committed, setting))
        let patch = try #require(FlagFilePatch(path: "flags/p/f.json", text: text, setting: setting))
        let parsed = FlagDecoder.decode(patch.patched, id: "f", file: "flags/p/f.json")
        let patched = try #require(parsed.flag, "\(parsed.diagnostics) in \(patch.patched)")
        #expect(patched == overlaid)
        let left = LoadedFlag(flag: patched, file: "flags/p/f.json", blobID: nil)
        let right = LoadedFlag(flag: overlaid, file: "flags/p/f.json", blobID: nil)
        #expect(left.fingerprint == right.fingerprint)
        #expect(left.targetingFingerprint == right.targetingFingerprint)
    }
}

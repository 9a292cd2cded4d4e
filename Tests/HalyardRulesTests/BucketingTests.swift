import Testing

@testable import HalyardRules

/// MurmurHash3, MD5 and Semaphore 1.0's bucket, checked against published and independently computed values.
struct BucketingTests {
    /// Published MurmurHash3 x86_32 vectors, each also checked with Python's `mmh3` (an independent C implementation).
    @Test(
        arguments: [
            ("", 0, 0x0000_0000),
            ("", 1, 0x514E_28B7),
            ("", 0xFFFF_FFFF, 0x81F1_6F39),
            ("hello", 0, 0x248B_FA47),
            ("hello", 1, 0xBB4A_BCAD),
            ("The quick brown fox jumps over the lazy dog", 0, 0x2E4F_F723),
            ("a", 0, 0x3C25_69B2),
            ("ab", 0, 0x9BBF_D75F),
            ("abc", 0, 0xB3DD_93FA),
            ("abcd", 0, 0x43ED_676A),
            ("abcde", 0, 0xE89B_9AF6),
            ("Hello, world!", 1234, 0xFAF6_CDB3),
            ("été", 0, 0x3393_660F),
            ("test-flag:user-1", 0, 0xE2A3_7ECB),
        ] as [(String, UInt32, UInt32)])
    func murmurHash3Vectors(_ text: String, _ seed: UInt32, _ expected: UInt32) {
        #expect(Bucketing.murmur3x86_32(Array(text.utf8), seed: seed) == expected)
        // Non-contiguous collections and incremental feeding agree with the one-shot hash.
        #expect(Bucketing.murmur3x86_32(text.utf8, seed: seed) == expected)
        let bytes = Array(text.utf8)
        for split in 0...bytes.count {
            var hasher = MurmurHash3x86_32(seed: seed)
            bytes[..<split].withUnsafeBufferPointer { hasher.combine($0) }
            for byte in bytes[split...] { hasher.combine(byte) }
            #expect(hasher.finalize() == expected)
        }
    }

    /// RFC 1321 appendix A.5.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func md5Vectors(_ text: String, _ expected: String) {
        let hex = MD5.digest(Array(text.utf8)).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(hex.joined() == expected)
    }

    @Test func semaphoreKnownValueFromItsTestSuite() {
        // tests/specs/testSemaphore.cfc: user {user: "adam", id: 42}, rule {awesome: true}, as Lucee upper-cases them.
        #expect(Bucketing.semaphoreBucket(rule: ["AWESOME": true], user: ["USER": "adam", "ID": 42]) == 0.3333)
        #expect(Bucketing.semaphoreBucket(rule: ["awesome": true], user: ["user": "adam", "id": 42]) == 0.093)
    }

    @Test func semaphoreRolloutBuckets() {
        let rule: [String: JSONValue] = ["type": "%", "percentage": 50]
        #expect(Bucketing.semaphoreBucket(rule: rule, user: ["userId": 1]) == 0.2659)
        #expect(Bucketing.semaphoreBucket(rule: rule, user: ["userId": 2]) == 0.6173)
        #expect(Bucketing.semaphoreBucket(rule: ["type": "%", "percentage": 0], user: ["userId": 10068]) == 0)
        #expect(Bucketing.semaphoreBucket(rule: ["type": "%", "percentage": 42], user: ["userId": 6559]) == 0.42)
        // An integral double is written as an integer, so 1 and 1.0 are the same user.
        #expect(Bucketing.semaphoreBucket(rule: rule, user: ["userId": 1.0]) == 0.2659)
        // A string "1" is hashed quoted: a different bucket.
        #expect(Bucketing.semaphoreBucket(rule: rule, user: ["userId": "1"]) != 0.2659)
    }

    @Test func semaphoreSerialisation() {
        var text: [UInt8] = []
        LuceeJSON.deterministicString(["type": "%", "percentage": 50], into: &text)
        #expect(String(decoding: text, as: UTF8.self) == #"[{"percentage":50},{"type":"%"}]"#)
        text = []
        // Keys sort by UTF-16 code unit, case-sensitively: "Z" < "_" < "a", and "😀" (D83D DE00) before "～" (FF5E).
        LuceeJSON.deterministicString(["a": 1, "_": 2, "Z": 3, "é": 4, "😀": 5, "\u{FF5E}": 6], into: &text)
        #expect(String(decoding: text, as: UTF8.self) == #"[{"Z":3},{"_":2},{"a":1},{"é":4},{"\ud83d\ude00":5},{"～":6}]"#)
        text = []
        LuceeJSON.deterministicString(
            ["s": "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{7F}\u{85}é😀/</script>'", "n": .null, "b": false, "a": [1, "x", ["k": true]]],
            into: &text
        )
        #expect(
            String(decoding: text, as: UTF8.self)
                == #"[{"a":[1,"x",{"k":true}]},{"b":false},{"n":null},{"s":"a\"b\\c\n\r\t\b\f\u0001\u007f\u0085é\ud83d\ude00/<\/script>'"}]"#
        )
    }

    @Test func semaphoreBucketWithEscapedCharacters() {
        // Checked with Python: md5('[{"percentage":12.5},{"type":"%"}][{"Name":"Zoe"},{"_x":"\u0001"},{"name":"\ud83d\ude00"}]').
        let bucket = Bucketing.semaphoreBucket(rule: ["type": "%", "percentage": 12.5], user: ["name": "😀", "Name": "Zoe", "_x": "\u{01}"])
        #expect(bucket == 0.8002)
    }

    @Test(
        arguments: [
            (42.0, "42"), (-7.0, "-7"), (0.0, "0"), (-0.0, "0"), (0.1, "0.1"), (1.0 / 3.0, "0.333333333333"), (2.0 / 3.0, "0.666666666667"),
            (2.5e-7, "0.00000025"), (12.5, "12.5"), (-1.25, "-1.25"), (1e-13, "0"), (3 + 7e-13, "3"), (2.9999999999996, "3"),
            (123456.789, "123456.789"), (1e20, "100000000000000000000"), (9.223372036854775807e18, "9223372036854775807"),
            (0.0000000000015, "0.000000000002"), (0.0000000000025, "0.000000000002"), (0.1234567890125, "0.123456789012"),
            (0.5, "0.5"), (1.0000000000005, "1"), (1.0000000000015, "1.000000000001"), (1.0000000000025, "1.000000000003"),
        ] as [(Double, String)])
    func luceeNumberFormatting(_ value: Double, _ expected: String) {
        #expect(LuceeNumberFormat.format(value) == expected)
    }

    @Test func exactComparisonOfDoublesAndDecimals() {
        // 0.1 is slightly above 1/10, 0.3 slightly below 3/10; 0.5 is exact.
        #expect(LuceeNumberFormat.compareExactly(0.1, digits: Array("1".utf8), exponent: 0) == 1)
        #expect(LuceeNumberFormat.compareExactly(0.3, digits: Array("3".utf8), exponent: 0) == -1)
        #expect(LuceeNumberFormat.compareExactly(0.5, digits: Array("5".utf8), exponent: 0) == 0)
        #expect(LuceeNumberFormat.compareExactly(1e300, digits: Array("1".utf8), exponent: 301) == 1)
    }
}

/// MD5 (RFC 1321).
///
/// MD5 is used for one thing only: reproducing Semaphore 1.0's `%` buckets bit for bit (reference §5). It is not used
/// for anything that needs collision resistance. HalyardRules has no dependencies, so it carries its own.
enum MD5 {
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// `floor(abs(sin(i + 1)) × 2^32)`, precomputed.
    private static let constants: [UInt32] = [
        0xD76A_A478, 0xE8C7_B756, 0x2420_70DB, 0xC1BD_CEEE, 0xF57C_0FAF, 0x4787_C62A, 0xA830_4613, 0xFD46_9501,
        0x6980_98D8, 0x8B44_F7AF, 0xFFFF_5BB1, 0x895C_D7BE, 0x6B90_1122, 0xFD98_7193, 0xA679_438E, 0x49B4_0821,
        0xF61E_2562, 0xC040_B340, 0x265E_5A51, 0xE9B6_C7AA, 0xD62F_105D, 0x0244_1453, 0xD8A1_E681, 0xE7D3_FBC8,
        0x21E1_CDE6, 0xC337_07D6, 0xF4D5_0D87, 0x455A_14ED, 0xA9E3_E905, 0xFCEF_A3F8, 0x676F_02D9, 0x8D2A_4C8A,
        0xFFFA_3942, 0x8771_F681, 0x6D9D_6122, 0xFDE5_380C, 0xA4BE_EA44, 0x4BDE_CFA9, 0xF6BB_4B60, 0xBEBF_BC70,
        0x289B_7EC6, 0xEAA1_27FA, 0xD4EF_3085, 0x0488_1D05, 0xD9D4_D039, 0xE6DB_99E5, 0x1FA2_7CF8, 0xC4AC_5665,
        0xF429_2244, 0x432A_FF97, 0xAB94_23A7, 0xFC93_A039, 0x655B_59C3, 0x8F0C_CC92, 0xFFEF_F47D, 0x8584_5DD1,
        0x6FA8_7E4F, 0xFE2C_E6E0, 0xA301_4314, 0x4E08_11A1, 0xF753_7E82, 0xBD3A_F235, 0x2AD7_D2BB, 0xEB86_D391,
    ]

    /// The 16-byte digest of `bytes`.
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        let state = hash(bytes, [])
        var digest = [UInt8]()
        digest.reserveCapacity(16)
        for word in [state.0, state.1, state.2, state.3] {
            for shift in stride(from: 0, to: 32, by: 8) { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return digest
    }

    /// The digest of `first` followed by `second`, as the four little-endian state words (A, B, C, D).
    static func hash(_ first: [UInt8], _ second: [UInt8]) -> (UInt32, UInt32, UInt32, UInt32) {
        let length = first.count + second.count
        // Message, 0x80, zeros up to 56 mod 64, then the bit length as a little-endian UInt64.
        let paddedLength = (length + 8) / 64 * 64 + 64
        return withUnsafeTemporaryAllocation(byteCount: paddedLength, alignment: 8) { message in
            first.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: message[0..<first.count]).copyMemory(from: $0) }
            second.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: message[first.count..<length]).copyMemory(from: $0) }
            message[length] = 0x80
            for index in (length + 1)..<(paddedLength - 8) { message[index] = 0 }
            let bitLength = UInt64(length) &* 8
            for index in 0..<8 { message[paddedLength - 8 + index] = UInt8(truncatingIfNeeded: bitLength >> UInt64(index * 8)) }

            var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
            shifts.withUnsafeBufferPointer { shifts in
                constants.withUnsafeBufferPointer { constants in
                    var offset = 0
                    while offset < paddedLength {
                        processBlock(UnsafeRawBufferPointer(message), at: offset, &state, shifts, constants)
                        offset += 64
                    }
                }
            }
            return state
        }
    }

    @inline(__always)
    private static func processBlock(
        _ bytes: UnsafeRawBufferPointer,
        at offset: Int,
        _ state: inout (UInt32, UInt32, UInt32, UInt32),
        _ shifts: UnsafeBufferPointer<UInt32>,
        _ constants: UnsafeBufferPointer<UInt32>
    ) {
        var a = state.0
        var b = state.1
        var c = state.2
        var d = state.3
        @inline(__always)
        func step(_ f: UInt32, _ round: Int, _ g: Int) {
            let word = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + g &* 4, as: UInt32.self))
            let sum = f &+ a &+ constants[round] &+ word
            a = d
            d = c
            c = b
            let shift = shifts[round]
            b = b &+ (sum &<< shift | sum &>> (32 &- shift))
        }
        for round in 0..<16 { step((b & c) | (~b & d), round, round) }
        for round in 16..<32 { step((d & b) | (~d & c), round, (5 &* round &+ 1) & 15) }
        for round in 32..<48 { step(b ^ c ^ d, round, (3 &* round &+ 5) & 15) }
        for round in 48..<64 { step(c ^ (b | ~d), round, (7 &* round) & 15) }
        state.0 &+= a
        state.1 &+= b
        state.2 &+= c
        state.3 &+= d
    }
}

extension JSONValue {
    /// The compact JSON text of the value: no whitespace, object keys sorted by their UTF-8 bytes, numbers in
    /// their shortest form (`42`, `1.5`) and strings escaped as RFC 8259 requires (``JSONWriter/appendQuoted(_:to:)``).
    ///
    /// Equal values always give equal text, so the text doubles as a canonical form for fingerprints and ETags.
    public var jsonText: String {
        var bytes: [UInt8] = []
        JSONWriter.appendCanonical(self, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

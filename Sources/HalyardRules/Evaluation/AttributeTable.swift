import Synchronization

/// An attribute name with its hash worked out once.
///
/// Compiled rules hold keys, and ``EvaluationContext`` indexes attributes by the same hash, so looking an attribute
/// up during evaluation costs an integer mask and one string comparison, not a string hash. The hash is Swift's
/// per-process seeded `Hasher`, so request-supplied attribute names cannot be chosen to collide.
struct AttributeKey: Sendable, Hashable {
    let name: String
    let hash: Int

    init(_ name: String) {
        self.name = name
        var hasher = Hasher()
        hasher.combine(name)
        hash = hasher.finalize()
    }
}

/// A user attribute prepared for every kind of rule.
struct PreparedAttribute: Sendable {
    /// The attribute as given (sticky buckets hash it with its case).
    let value: JSONValue
    /// Whether ``scalar`` holds the value, i.e. it is a string, number or boolean (not an array or object).
    let isScalar: Bool
    /// The scalar form for comparisons; meaningless unless ``isScalar``.
    let scalar: Scalar
    /// Whether ``items`` holds what `has` searches; otherwise the scalar itself is the only item.
    let hasItems: Bool
    /// The scalar elements of an array, or the trimmed, non-empty items of a comma-separated string.
    let items: [Scalar]

    init(_ value: JSONValue) {
        self.value = value
        switch value {
        case .array(let elements):
            isScalar = false
            scalar = Scalar(bool: false)
            hasItems = true
            items = elements.compactMap(Scalar.init)
        case .object, .null:
            isScalar = false
            scalar = Scalar(bool: false)
            hasItems = true
            items = []
        case .string(let string):
            isScalar = true
            scalar = Scalar(string: string)
            let utf8 = string.utf8
            if let first = utf8.first, let last = utf8.last {
                hasItems = utf8.contains(UInt8(ascii: ",")) || isEdgeSpace(first) || isEdgeSpace(last)
                items = hasItems ? Scalar.listItems(string) : []
            } else {
                hasItems = true
                items = []
            }
        case .number(let number):
            isScalar = true
            scalar = Scalar(number: number)
            hasItems = false
            items = []
        case .bool(let flag):
            isScalar = true
            scalar = Scalar(bool: flag)
            hasItems = false
            items = []
        }
    }
}

/// Whether a byte may be (the start or end of) white space that list items trim.
private func isEdgeSpace(_ byte: UInt8) -> Bool { byte <= 0x20 || byte >= 0x80 }

/// The prepared attributes of one ``EvaluationContext``: an open-addressing hash table keyed by ``AttributeKey``.
///
/// The table is built once and never changes, and it lives in manually allocated memory so that evaluation reads
/// entries in place, without bounds checks or reference counting. That is why the class is `@unchecked Sendable`:
/// its memory is written only in `init`.
final class AttributeTable: @unchecked Sendable {
    let attributes: [String: JSONValue]
    private let mask: Int
    private let slots: UnsafeMutableBufferPointer<Int32>
    private let keys: UnsafeMutableBufferPointer<AttributeKey>
    private let entries: UnsafeMutableBufferPointer<PreparedAttribute>
    private let count: Int
    /// The user's Semaphore serialisation, computed on first use.
    private let semaphoreText = Mutex<[UInt8]?>(nil)

    /// Prepares every non-null attribute; null attributes count as missing (DESIGN §2).
    init(_ attributes: [String: JSONValue]) {
        self.attributes = attributes
        var capacity = 8
        while capacity < attributes.count * 2 { capacity *= 2 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        keys = .allocate(capacity: max(attributes.count, 1))
        entries = .allocate(capacity: max(attributes.count, 1))
        var count = 0
        for (name, value) in attributes where !value.isNull {
            let key = AttributeKey(name)
            var slot = key.hash & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            (keys.baseAddress! + count).initialize(to: key)
            (entries.baseAddress! + count).initialize(to: PreparedAttribute(value))
            count += 1
            slots[slot] = Int32(count)
        }
        self.count = count
    }

    deinit {
        keys.baseAddress!.deinitialize(count: count)
        entries.baseAddress!.deinitialize(count: count)
        keys.deallocate()
        entries.deallocate()
        slots.deallocate()
    }

    /// The attribute named by `key`, read in place, or `nil` if the user has no such (non-null) attribute.
    @inline(__always)
    func attribute(_ key: UnsafePointer<AttributeKey>) -> UnsafePointer<PreparedAttribute>? {
        let hash = key.pointee.hash
        var slot = hash & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let candidate = UnsafePointer(keys.baseAddress! + (entry - 1))
            if candidate.pointee.hash == hash, candidate.pointee.name == key.pointee.name { return UnsafePointer(entries.baseAddress! + (entry - 1)) }
            slot = (slot + 1) & mask
        }
    }

    /// The user's attributes as Semaphore serialises them, computed once and shared by every flag.
    func semaphoreUserText() -> [UInt8] {
        if let text = semaphoreText.withLock({ $0 }) { return text }
        var text: [UInt8] = []
        LuceeJSON.deterministicString(attributes, into: &text)
        semaphoreText.withLock { $0 = text }
        return text
    }
}

extension RuleGroup {
    /// The group in the file format: `{"when": [...], "serve": name}` or `{"when": [...], "split": {...}}`.
    public var jsonValue: JSONValue {
        let when = JSONValue.array(self.when.map(\.jsonValue))
        switch outcome {
        case .serve(let variant):
            return ["when": when, "serve": .string(variant)]
        case .split(let split):
            return ["when": when, "split": split.jsonValue]
        }
    }
}

extension Split {
    /// The split in the file format: `{"attribute": A, "variants": [{"variant": name, "percentage": P}, ...]}`.
    public var jsonValue: JSONValue {
        let variants = allocations.map { allocation -> JSONValue in
            ["variant": .string(allocation.variant), "percentage": .number(JSONNumber(allocation.percentage))]
        }
        return ["attribute": .string(attribute), "variants": .array(variants)]
    }
}

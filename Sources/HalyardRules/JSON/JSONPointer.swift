/// Builds RFC 6901 JSON pointers, which diagnostics use to say where in a flag file a problem is.
enum JSONPointer {
    /// Appends a reference token, escaping `~` as `~0` and `/` as `~1`.
    static func appending(_ token: String, to pointer: String) -> String {
        guard token.contains(where: { $0 == "~" || $0 == "/" }) else { return pointer + "/" + token }
        var escaped = ""
        for character in token {
            switch character {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.append(character)
            }
        }
        return pointer + "/" + escaped
    }

    /// Appends an array index.
    static func appending(_ index: Int, to pointer: String) -> String { pointer + "/" + String(index) }
}

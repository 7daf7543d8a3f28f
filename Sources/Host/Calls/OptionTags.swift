import PluginAPI

/// Whether a message lists an option tag (or a method) in a header such as Supported, Require or Allow, compared
/// without case and without splitting the header into Strings: every call asks a few of these.
enum OptionTags {
    static func contains(_ message: SIPMessage, _ header: String, _ tag: StaticString) -> Bool {
        let name = header.lowercased()
        for field in message.headers where field.hasName(name) {
            if contains(list: field.value.utf8, tag) { return true }
        }
        return false
    }

    /// Whether the message requires `tag`, and whether it says it supports it, in one pass over its headers.
    static func requiresAndSupports(_ message: SIPMessage, _ tag: StaticString) -> (requires: Bool, supports: Bool) {
        var requires = false
        var supports = false
        for field in message.headers {
            if !requires, field.hasName("require"), contains(list: field.value.utf8, tag) { requires = true }
            if !supports, field.hasName("supported"), contains(list: field.value.utf8, tag) { supports = true }
        }
        return (requires, supports)
    }

    /// `list` is a comma-separated header value; each entry is compared to `tag` after its blanks.
    static func contains(list: String.UTF8View, _ tag: StaticString) -> Bool {
        let wanted = UnsafeBufferPointer(start: tag.utf8Start, count: tag.utf8CodeUnitCount)
        var i = list.startIndex
        while i != list.endIndex {
            while i != list.endIndex, list[i] == UInt8(ascii: " ") || list[i] == UInt8(ascii: "\t") {
                list.formIndex(after: &i)
            }
            var matched = 0
            var j = i
            while j != list.endIndex, list[j] != UInt8(ascii: ","), matched < wanted.count,
                list[j] | 0x20 == wanted[matched] | 0x20
            {
                matched += 1
                list.formIndex(after: &j)
            }
            if matched == wanted.count {
                var k = j
                while k != list.endIndex, list[k] == UInt8(ascii: " ") || list[k] == UInt8(ascii: "\t") {
                    list.formIndex(after: &k)
                }
                if k == list.endIndex || list[k] == UInt8(ascii: ",") { return true }
            }
            while i != list.endIndex, list[i] != UInt8(ascii: ",") { list.formIndex(after: &i) }
            if i != list.endIndex { list.formIndex(after: &i) }
        }
        return false
    }
}

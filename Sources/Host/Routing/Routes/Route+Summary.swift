extension Route {
    /// One line saying what the route matches, for the status page and the API.
    public var matchSummary: String {
        var parts: [String] = []
        if let sources { parts.append("from \(sources.sorted().joined(separator: ", "))") }
        if !called.isEmpty { parts.append("to " + called.map(\.description).joined(separator: " or ")) }
        if !caller.isEmpty { parts.append("caller " + caller.map(\.description).joined(separator: " or ")) }
        for h in headers { parts.append("header \(h.name)" + (h.regex.map { " ~ \($0.pattern)" } ?? "")) }
        return parts.isEmpty ? "any call" : parts.joined(separator: "; ")
    }

    /// Where matching calls go, in order, or the rejection.
    public var actionSummary: String {
        switch action {
        case .forward(let targets):
            return "-> "
                + targets.map { t in t.weight != 1 ? "\(t.peer) (p\(t.priority), w\(t.weight))" : t.peer }.joined(
                    separator: ", ")
        case .reject(let status, let reason):
            return "reject \(status) \(reason)"
        }
    }
}

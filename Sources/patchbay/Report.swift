import Engine
import Operations
import PluginAPI
import Records
import Routing

/// Text rendering of a processing result for the terminal.
enum Report {
    static func render(_ r: RequestProcessor.Result, explain: Bool) -> String {
        var out: [String] = []
        if explain {
            for (i, step) in r.steps.enumerated() {
                out.append("\(i + 1). \(step.title)")
                for n in step.notes { out.append("     \(n)") }
                if let diff = step.diff {
                    let lines = diff.lines
                    if lines.isEmpty { out.append("     (no change)") }
                    for l in lines { out.append("     \(l)") }
                }
            }
            out.append("")
        }
        switch r.outcome {
        case .forwarded(let route):
            out.append("route: \(route)")
            for (i, leg) in r.legs.enumerated() {
                out.append(
                    "  \(i + 1). \(leg.peer): \(leg.message.requestURI?.description ?? "?")  caller \(leg.callerNumber ?? "-")"
                )
            }
        case .rejected(let route, let status, let reason):
            out.append("rejected: \(status) \(reason)" + (route.map { " (route \($0))" } ?? " (no route matches)"))
        }
        return out.joined(separator: "\n")
    }
}

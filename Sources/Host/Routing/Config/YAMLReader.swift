import SIPCore
import Yams

/// Reads a YAML mapping node with positions. Codable through Yams loses the position of a type error and lets
/// unknown keys pass; reading the node tree keeps the mark of every key and value, so every problem is reported at
/// its line and column, and keys nobody asked for are reported as unknown (with the nearest known key suggested).
struct YAMLMap {
    let mapping: Node.Mapping
    let position: SourcePosition
    package let file: String
    package let diagnostics: Diagnostics
    /// What the map is, for messages ("peer", "route 'emergency'").
    package let what: String
    private(set) var asked: [String] = []

    package init?(
        _ node: Node?, file: String, what: String, diagnostics: Diagnostics, at fallback: SourcePosition? = nil
    ) {
        guard let node else { return nil }
        let pos = YAMLMap.position(of: node, file: file) ?? fallback ?? SourcePosition(file: file, line: 1, column: 1)
        guard let mapping = node.mapping else {
            diagnostics.error(pos, "\(what) must be a mapping of keys to values, found \(YAMLMap.kind(of: node))")
            return nil
        }
        self.mapping = mapping
        self.position = pos
        self.file = file
        self.diagnostics = diagnostics
        self.what = what
    }

    static func position(of node: Node, file: String) -> SourcePosition? {
        node.mark.map { SourcePosition(file: file, line: $0.line, column: $0.column) }
    }

    package static func kind(of node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func pos(_ node: Node) -> SourcePosition { YAMLMap.position(of: node, file: file) ?? position }

    /// Position of the key itself (for unknown-key and missing-value messages).
    func keyPosition(_ key: String) -> SourcePosition {
        for (k, _) in mapping where k.text == key { return pos(k) }
        return position
    }

    mutating func node(_ key: String) -> Node? {
        asked.append(key)
        for (k, v) in mapping where k.text == key { return v }
        return nil
    }

    mutating func has(_ key: String) -> Bool {
        mapping.contains { $0.key.string == key }
    }

    package mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let n = node(key) else {
            if required { diagnostics.error(position, "\(what) is missing '\(key)'") }
            return nil
        }
        guard case .scalar(let s) = n else {
            diagnostics.error(pos(n), "'\(key)' must be a string, found \(YAMLMap.kind(of: n))")
            return nil
        }
        if s.string.isEmpty, s.style == .plain, required {
            diagnostics.error(pos(n), "'\(key)' must not be empty")
            return nil
        }
        return s.string
    }

    mutating func int(_ key: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n, let i = Int(s.string) else {
            diagnostics.error(pos(n), "'\(key)' must be an integer, found \(YAMLMap.kind(of: n))")
            return nil
        }
        if let range, !range.contains(i) {
            diagnostics.error(
                pos(n), "'\(key)' must be between \(range.lowerBound) and \(range.upperBound), found \(i)")
            return nil
        }
        return i
    }

    /// A duration in seconds, fractions allowed (`0.5`).
    package mutating func seconds(_ key: String, range: ClosedRange<Double>, unit: String = "seconds") -> Double? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n, let d = Double(s.string), range.contains(d) else {
            diagnostics.error(
                pos(n),
                "'\(key)' must be \(unit) between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), found \(YAMLMap.kind(of: n))"
            )
            return nil
        }
        return d
    }

    private static func format(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

    mutating func bool(_ key: String) -> Bool? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n, let b = Bool.construct(from: s) else {
            diagnostics.error(pos(n), "'\(key)' must be true or false, found \(YAMLMap.kind(of: n))")
            return nil
        }
        return b
    }

    /// A list; a single scalar is accepted as a list of one where `scalarAsList` (for `from: pbx`).
    package mutating func list(_ key: String, scalarAsList: Bool = false) -> [Node]? {
        guard let n = node(key) else { return nil }
        if case .sequence(let seq) = n { return Array(seq) }
        if scalarAsList, case .scalar = n { return [n] }
        diagnostics.error(pos(n), "'\(key)' must be a list, found \(YAMLMap.kind(of: n))")
        return nil
    }

    mutating func strings(_ key: String) -> [(String, SourcePosition)]? {
        guard let nodes = list(key, scalarAsList: true) else { return nil }
        return nodes.compactMap { n in
            guard case .scalar(let s) = n else {
                diagnostics.error(pos(n), "'\(key)' entries must be strings, found \(YAMLMap.kind(of: n))")
                return nil
            }
            return (s.string, pos(n))
        }
    }

    package mutating func map(_ key: String, what: String? = nil) -> YAMLMap? {
        YAMLMap(node(key), file: file, what: what ?? "'\(key)'", diagnostics: diagnostics, at: keyPosition(key))
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) -> T?
    where T.RawValue == String {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n, let v = T(rawValue: s.string) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            diagnostics.error(pos(n), "'\(key)' must be one of \(allowed), found \(YAMLMap.kind(of: n))")
            return nil
        }
        return v
    }

    /// Reports every key that no getter asked for. Call after reading all known keys.
    func rejectUnknownKeys() {
        for (k, _) in mapping where !asked.contains(k.text) {
            let hint = YAMLMap.nearest(k.text, in: asked).map { " (did you mean '\($0)'?)" } ?? ""
            diagnostics.error(pos(k), "unknown key '\(k.text)' in \(what)\(hint)")
        }
    }

    static func nearest(_ word: String, in candidates: [String]) -> String? {
        let best = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= Swift.max(2, word.count / 3) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

extension Node {
    /// A key's text; keys that are not scalars (rare, and then reported as unknown) read as empty.
    package var text: String { string ?? "" }
}

/// Parses YAML text into a node tree, turning libyaml's errors into positioned diagnostics.
enum YAMLDocument {
    package static func load(_ text: String, file: String, diagnostics: Diagnostics) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                diagnostics.error(SourcePosition(file: file, line: 1, column: 1), "file is empty")
                return nil
            }
            return node
        } catch let e as YamlError {
            switch e {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let ctx = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
                diagnostics.error(
                    SourcePosition(file: file, line: mark.line, column: mark.column), "YAML syntax: \(problem)\(ctx)")
            case .duplicatedKeysInMapping(let dups, let context):
                diagnostics.error(
                    SourcePosition(file: file, line: context.mark.line, column: context.mark.column),
                    "duplicate key \(dups.joined(separator: ", "))")
            case .reader(let problem, let offset, _, _):
                diagnostics.error(
                    SourcePosition(file: file, line: 1, column: 1),
                    "YAML reader: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
            default:
                diagnostics.error(SourcePosition(file: file, line: 1, column: 1), "YAML: \(e)")
            }
            return nil
        } catch {
            diagnostics.error(SourcePosition(file: file, line: 1, column: 1), "YAML: \(error)")
            return nil
        }
    }
}

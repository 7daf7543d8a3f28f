/// A problem found in a configuration or routes file, positioned like a compiler message so editors and CI logs
/// can jump to it: `file:line:col: error: message`.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int, column: Int, severity: Severity = .error, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

/// Collects diagnostics while a file is read, so one run reports every problem instead of the first.
public final class Diagnostics {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }

    public func add(_ d: Diagnostic) { items.append(d) }

    public func error(_ at: SourcePosition, _ message: String) {
        items.append(Diagnostic(file: at.file, line: at.line, column: at.column, severity: .error, message))
    }

    public func warning(_ at: SourcePosition, _ message: String) {
        items.append(Diagnostic(file: at.file, line: at.line, column: at.column, severity: .warning, message))
    }
}

/// Where a YAML node starts. Kept on the parsed model so later checks (unknown peer, plugin refusal of an option)
/// can still point at the line that caused them.
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

import Foundation

@testable import Records
@testable import Routing
@testable import SIPCore

/// A throw-away certificate authority for TLS tests, made with the openssl command line in a temporary directory:
/// a CA, and certificates it signs for 127.0.0.1 (servers) and for named clients.
struct TestPKI {
    let directory: String

    static var opensslIsInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    init(_ name: String = #function) throws {
        directory = try TestSupport.temporaryDirectory(suffix: "-pki")
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", path("ca.key"), "-out", path("ca.pem"), "-subj", "/CN=Patchbay Test CA",
        ])
    }

    func path(_ file: String) -> String { "\(directory)/\(file)" }

    /// `name.pem` and `name.key`, signed by the CA, for `subjectAltName` (e.g. "IP:127.0.0.1,DNS:gw.test").
    @discardableResult
    func issue(_ name: String, subjectAltName: String, ca: String = "ca") throws -> (certificate: String, key: String) {
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            path("\(name).key"),
            "-out", path("\(name).csr"), "-subj", "/CN=\(name)", "-addext", "subjectAltName=\(subjectAltName)",
        ])
        try openssl([
            "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
            "-CAcreateserial", "-days", "2", "-copy_extensions", "copy", "-out", path("\(name).pem"),
        ])
        return (path("\(name).pem"), path("\(name).key"))
    }

    /// A second, unrelated CA (for "this peer's certificate is not trusted").
    func otherCA(_ name: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-subj", "/CN=\(name)",
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PatchbayTestError("openssl \(arguments.joined(separator: " ")): \(text)")
        }
    }
}

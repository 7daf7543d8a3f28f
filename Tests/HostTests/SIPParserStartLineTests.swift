import Foundation
import Testing

@testable import Engine
@testable import Operations
@testable import Routing
@testable import SIPCore

/// The byte-level shortcut in `SIPParser.checkStartLine` must never accept a line the full check refuses.
@Suite struct SIPParserStartLineTests {
    static var lines: [String] {
        var lines = [
            "INVITE sip:+4930@example.com SIP/2.0", "BYE sips:a@b;transport=tls SIP/2.0", "OPTIONS tel:+4930 SIP/2.0",
            "SIP/2.0 200 OK", "SIP/2.0 100 ", "SIP/2.0 099 Low", "SIP/2.0 1000 Long", "SIP/2.0 200", "SIP/2.0 20x No",
            "INVITE  sip:a@b SIP/2.0", "INVITE sip:a@b  SIP/2.0", "INVITE sip:a@b SIP/2.0 ", "INVITE sip:a@b SIP/2.1",
            "INVITE sip:a@b sip/2.0", "INVITE http:a@b SIP/2.0", "INVITE :a@b SIP/2.0", "INV\u{1}TE sip:a@b SIP/2.0",
            "INVITE sip:a@b", "SIPS:a@b", "INVITE SIP:A@B SIP/2.0", "INVITE sipx:a@b SIP/2.0", "I\tN sip:a@b SIP/2.0",
        ]
        // Every fixture's start line, the RFC 4475 torture messages included.
        for dir in ["Tests/Fixtures", "Tests/Fixtures/rfc4475"] {
            let path = TestSupport.path(dir)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                guard let data = FileManager.default.contents(atPath: "\(path)/\(name)") else { continue }
                let bytes = Array(data)
                let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
                lines.append(String(decoding: bytes[..<end].filter { $0 != 0x0D }, as: UTF8.self))
            }
        }
        return lines
    }

    @Test func theShortcutAcceptsOnlyWhatTheFullCheckAccepts() {
        var shortcut = 0
        for line in Self.lines {
            let bytes = ArraySlice(Array(line.utf8))
            guard SIPParser.isPlainStartLine(bytes) else { continue }
            shortcut += 1
            #expect(throws: Never.self, "\(line)") { try SIPParser.checkStartLineInFull(bytes) }
        }
        #expect(shortcut >= 20, "the shortcut should take the common lines")
        for line in ["INVITE sip:a@b SIP/2.0", "SIP/2.0 180 Ringing", "ACK tel:+49 SIP/2.0"] {
            #expect(SIPParser.isPlainStartLine(ArraySlice(Array(line.utf8))), "\(line)")
        }
    }
}

import Foundation
import PluginAPI
import Testing

@testable import Engine
@testable import Harness
@testable import Operations
@testable import Routing
@testable import SIPCore

/// The receiving loop picks a message's shard from `SIPParser.callIDRange` before anything parses it; the shard then
/// parses it and looks its call up by the model's `callID`. A scan that answered a different Call-ID than the model
/// would split a call's messages over two shards, so every answer it gives is held to the model here.
@Suite struct CallIDScanTests {
    /// The scan's answer, as the model writes it (`OctetText`), or nil.
    static func scanned(_ bytes: [UInt8]) -> String? {
        SIPParser.callIDRange(in: bytes).map { OctetText.decode(bytes[$0]) }
    }

    /// Where the model parses, a scan answer must be the model's Call-ID. Returns whether the scan answered.
    @discardableResult
    static func expectAgrees(_ bytes: [UInt8], _ label: String) -> Bool {
        let scan = scanned(bytes)
        if let scan, let model = try? SIPMessage(bytes: bytes) {
            #expect(scan == model.callID, "\(label)")
        }
        return scan != nil
    }

    /// A Call-ID with octets that are not UTF-8 scans to the model's Call-ID, and both sides pick the same shard.
    @Test func aCallIDThatIsNotUTF8ScansToTheModelsOctets() throws {
        let raw: [UInt8] = Array("x-".utf8) + [0xFF, 0xC3, 0x28] + Array("@h".utf8)
        let bytes =
            Array("BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: ".utf8) + raw
            + Array("\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(Self.expectAgrees(bytes, "not UTF-8"))
        let model = try SIPMessage(bytes: bytes)
        #expect(OctetText.octets(model.callID ?? "") == raw)
        let range = try #require(SIPParser.callIDRange(in: bytes))
        for shards in 2...5 {
            func shard<C: Collection<UInt8>>(_ id: C) -> Int { Int(StableHash.fnv1a(id) % UInt64(shards)) }
            #expect(shard(bytes[range]) == shard(OctetText.octets(model.callID ?? "")))
        }
    }

    @Test func everyFixtureScansToTheModelsCallID() throws {
        let dir = TestSupport.path("Tests/Fixtures")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sip") }
        #expect(names.count >= 30)
        for name in names {
            let bytes = try TestSupport.fixture(name)
            // These are ordinary messages from real peers: the scan must find each one's Call-ID, not give up.
            #expect(Self.expectAgrees(bytes, name), "\(name)")
        }
    }

    @Test func tortureMessagesNeverScanToAnotherCallID() throws {
        let dir = TestSupport.path("Tests/Fixtures/rfc4475")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".dat") }
        #expect(names.count >= 40)
        var answered = 0
        for name in names {
            let data = try #require(FileManager.default.contents(atPath: "\(dir)/\(name)"))
            if Self.expectAgrees(Array(data), name) { answered += 1 }
        }
        // wsinv folds lines before its Call-ID and must be left to the parser; most others are plain.
        #expect(answered > names.count / 2)
        let wsinv = try #require(FileManager.default.contents(atPath: "\(dir)/wsinv.dat"))
        #expect(Self.scanned(Array(wsinv)) == nil)
    }

    /// Header lines around the Call-ID field, in every combination of the ways its line can be written.
    @Test func generatedHeaderSectionsScanToTheModelsCallID() throws {
        let names = ["Call-ID", "call-id", "CALL-ID", "Call-Id", "i", "I", "Call-IDs", "Call_ID", "ii", "Call\rID"]
        let colons = [":", " :", ": ", ":\t", "\t:  ", ":   "]
        let values = ["a84b4c76e66710@pc33.example.com", "x", "pb1-abc@h", "  spaced value  ", ""]
        let neighbours: [(before: String, after: String, folds: Bool)] = [
            ("", "", false),
            ("Subject: hi\r\n", "Max-Forwards: 70\r\n", false),
            ("Subject: hi\r\n folded\r\n", "", true),
            ("", " folded onto the Call-ID\r\n", true),
            ("", "\tfolded onto the Call-ID\r\n", true),
            ("Subject: hi\r\n Call-ID: in a continuation\r\n", "", true),
            ("", "Call-ID: second\r\n", false),
            ("i: earlier\r\n", "", false),
        ]
        var total = 0
        for name in names {
            for colon in colons {
                for value in values {
                    for n in neighbours {
                        for crlf in ["\r\n", "\n"] {
                            let head = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                            var text = head + n.before + "\(name)\(colon)\(value)\r\n" + n.after
                            text += "CSeq: 1 INVITE\r\nContent-Length: 14\r\n\r\nCall-ID: body\r\n"
                            let bytes = Array(text.replacingOccurrences(of: "\r\n", with: crlf).utf8)
                            let label = "\(name.debugDescription)|\(colon)|\(value)|\(n)|\(crlf.count)"
                            total += 1
                            Self.expectAgrees(bytes, label)
                            // The first Call-ID field decides; an empty one, or folding anywhere up to the line
                            // after it, leaves the message to the parser.
                            let isCallID = ["Call-ID", "call-id", "CALL-ID", "Call-Id", "i", "I"].contains(name)
                            let trimmed = value.trimmingCharacters(in: .whitespaces)
                            let expected: String? =
                                if n.folds { nil } else if n.before.hasPrefix("i:") { "earlier" } else if isCallID {
                                    trimmed.isEmpty ? nil : trimmed
                                } else if n.after.hasPrefix("Call-ID") { "second" } else { nil }
                            #expect(Self.scanned(bytes) == expected, "\(label)")
                        }
                    }
                }
            }
        }
        #expect(total == 4_800)
    }

    @Test func messagesWithoutAHeaderSectionAnswerNil() {
        for text in ["", "\r\n\r\n", "INVITE sip:a@b SIP/2.0", "\r\nINVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"] {
            #expect(Self.scanned(Array(text.utf8)) == nil, "\(text.debugDescription)")
        }
        // The start line is not a header, whatever it says.
        #expect(Self.scanned(Array("Call-ID: x\r\nTo: y\r\n\r\n".utf8)) == nil)
    }

    @Test func generatedCallIDsNameTheirShard() {
        #expect(Engine.generatedShard(Array("pb1-abc@host".utf8)) == 1)
        #expect(Engine.generatedShard(Array("pb012-x".utf8)) == 12)
        for other in ["pb-x", "pbx-1", "p1-x", "pb1", "pb+1-x", "xpb1-x", "pb1234567-x", ""] {
            #expect(Engine.generatedShard(Array(other.utf8)) == nil, "\(other)")
        }
    }
}

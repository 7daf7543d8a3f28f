import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Operations
@testable import Records
@testable import Routing
@testable import SIPCore

// @testable for SIPParser.forOsip, what libosip2 is given.

@Suite struct SIPParserTests {
    static let torture = TestSupport.path("Tests/Fixtures/rfc4475")

    /// RFC 4475 section 3.1.1: the valid messages. Every one must parse (the full conformance run against a live
    /// Patchbay, with responses, belongs to the robustness work).
    static let valid = [
        "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri", "transports",
        "mpart01", "unreason", "noreason",
    ]

    @Test(arguments: valid) func validTortureMessageParses(_ name: String) throws {
        let data = try #require(FileManager.default.contents(atPath: "\(Self.torture)/\(name).dat"))
        let m = try SIPParser().parse(Array(data))
        #expect(m.callID?.isEmpty == false)
        #expect(m.cseq != nil)
        #expect(!m.values("Via").isEmpty)
        // Serialising the model and parsing it again must give the same model (what we send is what we read).
        let again = try SIPParser().parse(m.serialized())
        #expect(again == m)
    }

    @Test func wsinvKeepsUnknownHeadersAndUnfoldsValues() throws {
        let data = try #require(FileManager.default.contents(atPath: "\(Self.torture)/wsinv.dat"))
        let m = try SIPParser().parse(Array(data))
        #expect(m.header("UnknownHeaderWithUnusualValue") == ";;,,;;,;")
        #expect(m.header("Max-Forwards") == "0068")
        #expect(m.cseq?.number == 9)
        #expect(m.method == "INVITE")
        #expect(m.values("Via").count == 3, "one Via line and one v: line holding two entries")
        #expect(m.to?.uri.user == "vivekg")
        #expect(m.to?.tag == "1918181833n")
        #expect(m.header("NewFangledHeader") == "newfangled value continued newfangled value")
    }

    @Test func dblreqIgnoresTrailingOctets() throws {
        let data = try #require(FileManager.default.contents(atPath: "\(Self.torture)/dblreq.dat"))
        let m = try SIPParser().parse(Array(data))
        #expect(m.method == "REGISTER")
        #expect(m.body.isEmpty)
        #expect(!m.text.contains("INVITE"))
    }

    @Test func mpart01BodyIsFramedByContentLengthNotByText() throws {
        let data = try #require(FileManager.default.contents(atPath: "\(Self.torture)/mpart01.dat"))
        let m = try SIPParser().parse(Array(data))
        let declared = try #require(
            Int(
                String(decoding: data, as: UTF8.self).components(separatedBy: "Content-Length: ")[1].prefix {
                    $0.isNumber
                }))
        #expect(m.body.count == declared)
        #expect(m.body.contains(0))
    }

    /// libosip2 leaks a multipart part's content type when it does not parse (found by `make fuzz`, kept as
    /// Tests/Fixtures/fuzz/osip-multipart-content-type-leak.bin). osip is given the header section only, so it never
    /// parses a body; the model still frames the body by Content-Length.
    @Test func osipIsGivenTheHeaderSectionOnly() throws {
        let data = try #require(FileManager.default.contents(atPath: "\(Self.torture)/mpart01.dat"))
        let bytes = Array(data)
        let forOsip = SIPParser.forOsip(bytes, try SIPParser().precheck(bytes))
        let bodyStart = try #require(bytes.firstRange(of: Array("\r\n\r\n".utf8))).upperBound
        // The header section through the blank line, Content-Length reading 0 in the same number of bytes.
        let text = String(decoding: bytes[0..<bodyStart], as: UTF8.self)
        let length = try #require(text.range(of: #"Content-Length: *[0-9]+"#, options: .regularExpression))
        let zeroed = text.replacingCharacters(
            in: length, with: "Content-Length:" + String(repeating: " ", count: text[length].count - 16) + "0")
        #expect(forOsip == Array(zeroed.utf8))
        let m = try SIPParser().parse(bytes)
        #expect(m.body == Array(bytes[bodyStart...].prefix(m.body.count)))
        #expect(m.body.count > 100)
    }

    /// Without a NUL in the header section and with Content-Length already reading 0, osip is given the received
    /// bytes in place instead of `forOsip`'s copy: the two must then be the same bytes. Both cases must occur.
    @Test func osipReadsInPlaceOnlyWhatTheCopyWouldNotChange() throws {
        var files = try FileManager.default.contentsOfDirectory(atPath: TestSupport.path("Tests/Fixtures"))
            .filter { $0.hasSuffix(".sip") }.map { TestSupport.path("Tests/Fixtures/\($0)") }
        files += try FileManager.default.contentsOfDirectory(atPath: Self.torture).filter { $0.hasSuffix(".dat") }
            .map { "\(Self.torture)/\($0)" }
        var inPlace = 0
        var copied = 0
        for file in files {
            let bytes = Array(try #require(FileManager.default.contents(atPath: file)))
            guard let framing = try? SIPParser().precheck(bytes) else { continue }
            let header = Array(bytes[0..<(framing.bodyStart ?? bytes.count)])
            if SIPParser.osipNeedsCopy(bytes, framing) {
                copied += 1
            } else {
                inPlace += 1
                #expect(SIPParser.forOsip(bytes, framing) == header, "\(file)")
            }
        }
        #expect(inPlace >= 5 && copied >= 5, "in place \(inPlace), copied \(copied)")
        // A zero written as 00 or with a tab before it is still rewritten.
        for value in ["00", "\t0", "0 "] {
            let text = "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length:\(value)\r\n\r\n"
            let bytes = Array(text.utf8)
            #expect(SIPParser.osipNeedsCopy(bytes, try SIPParser().precheck(bytes)), "\(value.debugDescription)")
        }
    }

    @Test func missingMandatoryHeadersAreRefusedWith400() throws {
        let noCallID =
            "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        #expect(throws: SIPParseError("missing Call-ID header", status: 400)) {
            try SIPParser().parse(Array(noCallID.utf8))
        }
        let mismatch = noCallID.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE\r\nCall-ID: x")
        #expect(throws: SIPParseError("CSeq method does not match the request method", status: 400)) {
            try SIPParser().parse(Array(mismatch.utf8))
        }
    }

    @Test func garbageAndOverlongInputAreRefusedWithoutCrashing() {
        #expect(throws: SIPParseError.self) { try SIPParser().parse(Array("hello".utf8)) }
        #expect(throws: SIPParseError.self) { try SIPParser().parse([UInt8](repeating: 0x41, count: 70_000)) }
        let longLine = "OPTIONS sip:a@b SIP/2.0\r\nX-Long: " + String(repeating: "x", count: 10_000) + "\r\n\r\n"
        #expect(throws: SIPParseError("header line longer than 8192 bytes")) {
            try SIPParser().parse(Array(longLine.utf8))
        }
        // A response that does not parse is dropped (no status to answer with).
        #expect(throws: SIPParseError("libosip2 could not parse the message (-5)", status: nil)) {
            try SIPParser().parse(Array("SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n".utf8))
        }
    }

    static let options =
        "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

    static func status(_ text: String) -> Int?? {
        do {
            _ = try SIPParser().parse(Array(text.utf8))
            return .some(.some(0))
        } catch let e as SIPParseError {
            return .some(e.responseStatus)
        } catch {
            return nil
        }
    }

    /// The raw-byte guards in front of osip, each with the answer RFC 3261 / RFC 4475 asks for.
    @Test func startLineAndContentLengthGuards() {
        #expect(Self.status(Self.options) == 0, "the well-formed base message parses")
        let r = Self.options
        #expect(Self.status(r.replacingOccurrences(of: "SIP/2.0\r\nVia", with: "SIP/7.0\r\nVia")) == 505)
        #expect(
            Self.status(r.replacingOccurrences(of: "OPTIONS sip:a@b", with: "OPTIONS  sip:a@b")) == 400, "double space")
        #expect(
            Self.status(r.replacingOccurrences(of: "SIP/2.0\r\nVia", with: "SIP/2.0 \r\nVia")) == 400, "trailing space")
        #expect(Self.status(r.replacingOccurrences(of: "OPTIONS sip:a@b", with: "OPTIONS http:a@b")) == 416)
        #expect(Self.status(r.replacingOccurrences(of: "OPTIONS sip:a@b", with: "OPTIONS <sip:a@b>")) == 400)
        #expect(Self.status(r.replacingOccurrences(of: "OPTIONS sip:a@b", with: "OPTIONS tel:+4930123")) == 0)
        #expect(
            Self.status(r.replacingOccurrences(of: "Content-Length: 0", with: "Content-Length: 10")) == 400,
            "longer than the body")
        #expect(Self.status(r.replacingOccurrences(of: "Content-Length: 0", with: "Content-Length: -1")) == 400)
        #expect(
            Self.status(r.replacingOccurrences(of: "Content-Length: 0", with: "l: 0\r\nContent-Length: 0")) == 400,
            "two lengths")
        #expect(
            Self.status(r.replacingOccurrences(of: "Content-Length: 0", with: "Content-Length: 99999999999999999999"))
                == 400)
        #expect(Self.status(r.replacingOccurrences(of: "CSeq: 1 OPTIONS", with: "CSeq: 1 INVITE")) == 400)
        #expect(
            Self.status(r.replacingOccurrences(of: "OPTIONS sip", with: "FROB sip")) == 501,
            "unknown method, CSeq mismatch")
        #expect(
            Self.status("SIP/2.0 4294967301 Huge\r\nVia: SIP/2.0/UDP h\r\n\r\n") == .some(nil), "a response is dropped")
    }

    @Test func fixtureInviteFromPBX() throws {
        let m = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        #expect(m.requestURI?.user == "0030987654")
        #expect(m.header("Remote-Party-ID")?.contains("2345") == true)
        #expect(m.sdp?.media.first?.formats == ["18", "0", "8", "101"])
    }
}

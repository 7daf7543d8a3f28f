import Foundation
import Testing

@testable import Harness
@testable import Media

@Suite struct BencodeTests {
    let decoder = BencodeDecoder()

    @Test func valuesRoundTripAndDictionariesAreWrittenSortedByKey() throws {
        let value = BencodeValue.dictionary([
            ("sdp", .string("v=0\r\n")), ("command", .string("offer")),
            ("flags", .list([.string("trust-address"), .string("SDES-pad")])), ("ttl", .integer(-3)),
        ])
        let bytes = value.encoded()
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "d7:command5:offer5:flagsl13:trust-address8:SDES-pade3:sdp5:v=0\r\n3:ttli-3ee")
        let back = try decoder.decode(bytes)
        #expect(back["command"]?.text == "offer")
        #expect(back["ttl"]?.integer == -3)
        #expect(back["flags"]?.list?.count == 2)
        #expect(try decoder.decode(BencodeValue.integer(0).encoded()) == .integer(0))
        #expect(try decoder.decode(BencodeValue.bytes([]).encoded()) == .bytes([]))
    }

    @Test(arguments: [
        ("", "bencode ends early at byte 0"),
        ("d7:command4:ping", "bencode ends early at byte 16"),
        ("5:abc", "bencode ends early at byte 5"),
        ("i042e", "bad integer at byte 1"),
        ("i-0e", "bad integer at byte 1"),
        ("ie", "bad integer at byte 1"),
        ("i99999999999999999999e", "bad integer at byte 1"),
        ("x", "unexpected byte 0x78 at 0"),
        ("di1ei2ee", "a dictionary key that is not a string at byte 1"),
        ("i1ei2e", "bytes after the value, from byte 3"),
        ("99999999999999999999999:a", "bad string length at byte 0"),
    ])
    func malformedInputIsAnErrorWithItsOffset(input: String, expected: String) {
        #expect(throws: BencodeDecoder.Failure.self) { try decoder.decode(Array(input.utf8)) }
        do {
            _ = try decoder.decode(Array(input.utf8))
        } catch {
            #expect(error.description == expected, "\(input)")
        }
    }

    @Test func nestingAndSizeAreBounded() {
        let deep = String(repeating: "l", count: 40) + String(repeating: "e", count: 40)
        #expect(throws: BencodeDecoder.Failure.tooDeep(at: 32)) { try decoder.decode(Array(deep.utf8)) }
        var small = BencodeDecoder()
        small.maximumValues = 10
        let many = "l" + String(repeating: "i1e", count: 20) + "e"
        #expect(throws: BencodeDecoder.Failure.tooManyValues) { try small.decode(Array(many.utf8)) }
        // A length that claims more than there is allocates nothing.
        #expect(throws: BencodeDecoder.Failure.truncated(at: 8)) { try decoder.decode(Array("1000000:".utf8)) }
    }
}

/// The fuzz target's seeds (Tests/Fixtures/bencode): real ng messages, each through the target's invariant.
@Suite struct BencodeSeedTests {
    @Test func everySeedDecodesAndReencodesToTheSameBytes() throws {
        let dir = TestSupport.path("Tests/Fixtures/bencode")
        let seeds = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".bin") }
        #expect(seeds.count >= 7)
        for name in seeds {
            let bytes = try #require(FileManager.default.contents(atPath: "\(dir)/\(name)"))
            // Decodes, and re-encodes to what decodes the same (rtpengine does not sort its keys; Patchbay does).
            #expect(BencodeFuzz.run(Array(bytes)) == 1, "\(name) decodes")
        }
    }
}

import Foundation

/// A real SRTP endpoint: baresip (Debian baresip-core) as a softphone on 127.0.0.1, with SRTP mandatory
/// (`mediaenc=srtp-mand`), a 440 Hz tone as its microphone (`ausine`) and what it decodes written to WAV files
/// (`sndfile`). It answers calls at once, or dials `target` at start; it quits (hanging up) after `seconds`, and is
/// stopped by its pid otherwise.
final class BaresipUnderTest {
    static let path = "/usr/bin/baresip"
    static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: path)
            && FileManager.default.fileExists(atPath: "/usr/lib/baresip/modules/srtp.so")
    }

    let directory: URL
    let process = Process()
    let log: URL

    init(in directory: URL, sipPort: UInt16, user: String, target: String? = nil, seconds: Int) throws {
        self.directory = directory.appendingPathComponent("baresip")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let recordings = self.directory.appendingPathComponent("recordings")
        try FileManager.default.createDirectory(at: recordings, withIntermediateDirectories: true)
        let config = """
            poll_method epoll
            sip_listen 127.0.0.1:\(sipPort)
            sip_trans_def udp
            audio_source ausine,440
            ausrc_srate 48000
            ausrc_channels 2
            rtp_ports 33000-33999
            snd_path \(recordings.path)
            module_path /usr/lib/baresip/modules
            module g711.so
            module ausine.so
            module sndfile.so
            module srtp.so
            module menu.so
            module account.so

            """
        try config.write(to: self.directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try "<sip:\(user)@127.0.0.1:\(sipPort)>;regint=0;mediaenc=srtp-mand;answermode=auto;audio_codecs=PCMA\n".write(
            to: self.directory.appendingPathComponent("accounts"), atomically: true, encoding: .utf8)
        log = self.directory.appendingPathComponent("baresip.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.path)
        process.arguments =
            ["-4", "-f", self.directory.path, "-t", "\(seconds)"] + (target.map { ["-e", "/dial \($0)"] } ?? [])
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The WAV files `sndfile` wrote: what baresip decoded (`-dec.wav`) and what it sent (`-enc.wav`).
    var recordings: [URL] {
        let dir = directory.appendingPathComponent("recordings")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).map {
            dir.appendingPathComponent($0)
        }
    }

    func wait(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return !process.isRunning
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

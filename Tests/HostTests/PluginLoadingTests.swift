import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing

@Suite struct PluginLoadingTests {
    @Test func loadsTheThreeBuiltPluginsAndCastsAcrossTheBoundary() throws {
        let set = TestSupport.builtPlugins
        #expect(Set(set.plugins.map(\.name)) == ["IPPBX", "PSTNGateway", "ITSPTrunk"])
        #expect(set.refusals.isEmpty, "\(set.refusals)")
        for p in set.plugins {
            #expect(p.apiVersion == PluginABI.hostVersion)
            #expect(p.profiles.contains { $0.name == "generic" })
        }
        // The adapter is made inside the plugin image and used here: this only works when both see one PluginAPI.
        let ippbx = try #require(set.plugin(named: "IPPBX"))
        var ctx = NumberingContext()
        ctx.extensions = [ExtensionRange(first: "2000", last: "2999", didPrefix: "+4930123")]
        let adapter = try ippbx.plugin.makeAdapter(
            for: PeerConfiguration(name: "pbx", kind: .internal, profile: "generic", host: "192.0.2.10", numbering: ctx)
        )
        #expect(adapter.numberFromPeer("2345", role: .calling).digits == "+49301232345")
    }

    /// Builds a small C shared library that plays a broken plugin.
    static func cLibrary(_ source: String, named name: String, in dir: String) throws {
        let c = (dir as NSString).appendingPathComponent("\(name).c")
        try TestSupport.write(source, to: c)
        let r = try TestSupport.run(
            "/usr/bin/cc", ["-shared", "-fPIC", "-o", (dir as NSString).appendingPathComponent("lib\(name).so"), c])
        #expect(r.status == 0, "cc failed: \(r.output)")
        try FileManager.default.removeItem(atPath: c)
    }

    @Test func refusesBrokenPluginsWithReasonsAndLoadsTheRest() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let build = TestSupport.buildDirectory
        let fm = FileManager.default
        // A real plugin, the API library itself (must be skipped silently), and a second copy of the real plugin.
        try fm.copyItem(atPath: "\(build)/libIPPBX.so", toPath: "\(dir)/libIPPBX.so")
        try fm.copyItem(atPath: "\(build)/libIPPBX.so", toPath: "\(dir)/libIPPBXCopy.so")
        try fm.copyItem(atPath: "\(build)/libPluginAPI.so", toPath: "\(dir)/libPluginAPI.so")
        try TestSupport.write("this is not an ELF file\n", to: "\(dir)/libJunk.so")
        try TestSupport.write("not even named like a plugin\n", to: "\(dir)/README.txt")
        try Self.cLibrary("int unrelated(void) { return 1; }\n", named: "NoSymbols", in: dir)
        try Self.cLibrary("int patchbay_plugin_api_version(void) { return 999; }\n", named: "OldAPI", in: dir)
        try Self.cLibrary(
            "int patchbay_plugin_api_version(void) { return \(PluginABI.hostVersion); }\n"
                + "void *patchbay_plugin_create(void) { return 0; }\n", named: "FailsInit", in: dir)

        let set = PluginLoader.load(directory: dir)
        #expect(set.plugins.map(\.name) == ["IPPBX"])
        let reasons = Dictionary(
            uniqueKeysWithValues: set.refusals.map { (($0.file as NSString).lastPathComponent, $0.reason) })
        #expect(reasons.count == 5, "\(set.refusals)")
        #expect(reasons["libJunk.so"]?.hasPrefix("not a loadable library") == true)
        #expect(reasons["libNoSymbols.so"] == "not a Patchbay plugin: no patchbay_plugin_api_version symbol")
        #expect(
            reasons["libOldAPI.so"]
                == "built against plugin API version 999, expecting version \(PluginABI.hostVersion)")
        #expect(reasons["libFailsInit.so"] == "failed to initialise: patchbay_plugin_create returned nothing")
        #expect(reasons["libIPPBXCopy.so"] == "duplicates plugin 'IPPBX' already loaded from \(dir)/libIPPBX.so")
        for r in set.refusals { #expect(r.file.hasPrefix(dir)) }
    }

    @Test func pluginBuiltAsASeparatePackageLoadsFromTheDropInDirectory() throws {
        let built = TestSupport.path("Examples/HelloPlugin/.build/debug/libHelloPeer.so")
        try #require(
            FileManager.default.fileExists(atPath: built),
            "build it first: swift build --package-path Examples/HelloPlugin (make test does)")
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: built, toPath: "\(dir)/libHelloPeer.so")
        let set = PluginLoader.load(directory: dir)
        #expect(set.refusals.isEmpty, "\(set.refusals)")
        let hello = try #require(set.plugin(named: "HelloPeer"))
        let adapter = try hello.plugin.makeAdapter(
            for: PeerConfiguration(
                name: "h", kind: .internal, profile: "generic", host: "192.0.2.1", numbering: NumberingContext(),
                options: ["greeting": .string("servus")]))
        var m = try SIPMessage(parsing: "OPTIONS sip:+4930123@h SIP/2.0\r\nCall-ID: x\r\n\r\n")
        _ = AdapterPipeline.toPeer(&m, adapter: adapter)
        #expect(m.header("X-Hello") == "servus")
        #expect(m.requestURI?.user == "4930123")
        #expect(throws: PeerOptionError.self) {
            try hello.plugin.makeAdapter(
                for: PeerConfiguration(
                    name: "h", kind: .internal, profile: "generic", host: "x", numbering: NumberingContext(),
                    options: ["greting": .string("typo")]))
        }
    }

    @Test func missingDirectoryIsReportedNotFatal() {
        let set = PluginLoader.load(directory: "/nonexistent/patchbay-plugins")
        #expect(set.plugins.isEmpty)
        #expect(
            set.refusals == [
                PluginRefusal(file: "/nonexistent/patchbay-plugins", reason: "cannot read the plugin directory")
            ])
    }
}

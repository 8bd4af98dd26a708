import Foundation
import Testing
@testable import FleetCore

/// One type per runtime, one registry, plugins kept as real files and embedded as they are.
@Suite("runtimes: one type each, one registry")
struct RuntimeRegistryTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let adapters = "Sources/FleetCore/Runtime/Adapters/"
    static let plugins = "Sources/FleetCore/Runtime/Plugins/"

    @Test("every kind has its runtime, which names its own kind")
    func everyKind() {
        for kind in RuntimeKind.allCases { #expect(Runtimes.of(kind).kind == kind) }
        #expect(Runtimes.all.map(\.kind) == RuntimeKind.allCases)
        #expect(Runtimes.all.filter(\.needsCommand).map(\.kind) == [.custom])
    }

    /// A `case .claude`, `== .pi` or `!= .stub` names one runtime's behaviour: that belongs in the
    /// runtime's own file under Runtime/Adapters, and `Runtimes.of` is the only switch.
    static let kindTest = try! NSRegularExpression(
        pattern: "(?:\\bcase|==|!=)\\s*(?:RuntimeKind)?\\.(?:" + RuntimeKind.allCases.map(\.rawValue).joined(separator: "|") + ")\\b")

    static func kindTests(in text: String) -> Int {
        kindTest.numberOfMatches(in: text, range: NSRange(location: 0, length: (text as NSString).length))
    }

    @Test("no code outside the runtimes' own files tells runtime kinds apart")
    func noSecondSwitch() throws {
        #expect(Self.kindTests(in: "switch kind { case .claude: x }") == 1 && Self.kindTests(in: "if runtime == .stub {") == 1,
                "the scan finds what it looks for")
        #expect(Self.kindTests(in: "runtime: .claude, env: [:]") == 0)
        let sources = Self.repository.appendingPathComponent("Sources")
        let files = try FileManager.default.subpathsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 20, "the scan reads the sources")
        var registry = 0
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            if ("Sources/" + file).hasPrefix(Self.adapters) {
                if file.hasSuffix("/Runtime.swift") { registry = Self.kindTests(in: text) }
                continue
            }
            #expect(Self.kindTests(in: text) == 0, "Sources/\(file) tells runtime kinds apart; ask its Runtime instead")
        }
        #expect(registry == RuntimeKind.allCases.count, "Runtimes.of names every kind once")
    }

    @Test("the embedded plugins are the files kept in Runtime/Plugins, and every file there is embedded")
    func pluginsEmbedded() throws {
        let dir = Self.repository.appendingPathComponent(Self.plugins)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasSuffix(".swift") }
        #expect(Set(names) == Set(PluginSource.all.map(\.name)))
        for plugin in PluginSource.all {
            #expect(try String(contentsOf: dir.appendingPathComponent(plugin.name), encoding: .utf8) == plugin.template, "\(plugin.name)")
        }
        let package = try String(contentsOf: Self.repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        for name in names { #expect(package.contains(#".embedInCode("Runtime/Plugins/\#(name)")"#), "\(name) is embedded") }
    }

    @Test("a written plugin has every placeholder filled once, and a value is never searched for placeholders")
    func pluginsRendered() throws {
        #expect(PluginSource.piExtension.placeholders == ["MOSAIC_AGENT", "MOSAIC_HOOK", "MOSAIC_TEXT_LIMIT"])
        #expect(PluginSource.opencodeStatus.placeholders
                == ["MOSAIC_AGENT", "MOSAIC_HOOK", "MOSAIC_TEXT_LIMIT", "MOSAIC_FORWARDED_EVENTS", "MOSAIC_FRAME_OPENING"])
        let hook = HookCommand(mosaic: "/opt/MOSAIC_AGENT \"q\" \\ dir/mosaic", home: "/h", agent: "a1")
        let pi = PiRuntime().extensionSource(hook), opencode = OpencodeRuntime().pluginSource(hook)
        let array = #"["/opt/MOSAIC_AGENT \"q\" \\ dir/mosaic","agent","hook","--home","/h","--agent","a1","#
        #expect(pi.contains("const hook = " + array + #""pi"];"#))
        #expect(opencode.contains("const hook = " + array + #""opencode"];"#))
        #expect(opencode.contains(#"if (!text.includes("[mosaic msg=")) return;"#), "the frame's opening, from MessageFrame")
        for text in [pi, opencode] {
            let left = text.replacingOccurrences(of: "/opt/MOSAIC_AGENT", with: "")
            #expect(!left.contains("MOSAIC_"), "no placeholder is left")
            #expect(text.hasPrefix("// Written by mosaic for agent a1;"))
        }
    }
}

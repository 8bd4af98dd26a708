import Foundation

/// A JavaScript plugin a runtime loads (pi's extension, opencode's status plugin), kept as a real
/// file beside this one and embedded in the binary at build time (`.embedInCode` in
/// Package.swift): a `Bundle.module` resource would live in a `.resources` directory beside the
/// build's binary, which a copied `mosaic` (the release binary put on PATH) does not have.
///
/// The file is a valid module as it stands (`node --check` passes on it, see PluginTests):
/// its per-agent values are identifiers `MOSAIC_<NAME>`, which `rendered` replaces with JavaScript
/// literals in one pass, so a value (a home path, say) is never itself searched for placeholders.
public struct PluginSource: Sendable, Equatable {
    /// The file's name in Runtime/Plugins.
    public let name: String
    public let template: String

    init(name: String, bytes: [UInt8]) {
        self.name = name
        template = String(decoding: bytes, as: UTF8.self)
    }

    /// Every plugin mosaic writes.
    public static let all = [piExtension, opencodeStatus]
    public static let piExtension = PluginSource(name: "pi-extension.ts", bytes: PackageResources.pi_extension_ts)
    public static let opencodeStatus = PluginSource(name: "opencode-status.js", bytes: PackageResources.opencode_status_js)

    /// The placeholders the template holds.
    public var placeholders: Set<String> {
        Set(Self.placeholder.matches(in: template, range: NSRange(template.startIndex..., in: template))
            .compactMap { Range($0.range, in: template).map { String(template[$0]) } })
    }

    /// The plugin with each `MOSAIC_<NAME>` replaced by `values[NAME]` (JavaScript source text).
    /// Every placeholder must have a value and every value a placeholder: either would be a
    /// mistake in this package, caught by the tests of the runtime that writes the plugin.
    public func rendered(_ values: [String: String]) -> String {
        let names = Set(values.keys.map { "MOSAIC_" + $0 })
        precondition(names == placeholders, "\(name): placeholders \(placeholders.sorted()) but values for \(names.sorted())")
        var out = ""
        var rest = template.startIndex
        for match in Self.placeholder.matches(in: template, range: NSRange(template.startIndex..., in: template)) {
            guard let range = Range(match.range, in: template) else { continue }
            out += template[rest..<range.lowerBound]
            out += values[String(template[range].dropFirst("MOSAIC_".count))]!
            rest = range.upperBound
        }
        return out + template[rest...]
    }

    /// The values every plugin takes: the agent's name (in its header comment) and the argv
    /// prefix of its hook calls, as a JavaScript array (the event name goes last).
    static func hookValues(_ hook: HookCommand, _ runtime: RuntimeKind) -> [String: String] {
        ["AGENT": hook.agent, "HOOK": JSON.array(hook.argv(runtime, "EVENT").dropLast().map(JSON.string)).rendered(pretty: false)]
    }

    // The constant pattern of this file; a bad one is a programming error.
    private static let placeholder = try! NSRegularExpression(pattern: "\\bMOSAIC_[A-Z_]+\\b")
}

import Foundation
import Testing
import FleetCore

@Suite("mosaic role")
struct RoleCLITests {
    @Test("role ls and role show print a table and text, and valid JSON twins")
    func listAndShow() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        let ls = try await cli.run(["role", "ls"])
        #expect(ls.status == 0)
        #expect(ls.stdout.hasPrefix("ROLE"))
        for name in ["orchestrator", "reviewer", "coder", "researcher", "analyst", "finance"] { #expect(ls.stdout.contains(name)) }
        let json = try await cli.run(["role", "ls", "--json"])
        let array = try JSONSerialization.jsonObject(with: json.standardOutput) as? [[String: Any]]
        #expect(array?.count == 6)
        #expect(array?.first?["model"] is NSNull, "missing knowledge is null, never left out")
        let show = try await cli.run(["role", "show", "finance", "--json"])
        let role = try JSONSerialization.jsonObject(with: show.standardOutput) as? [String: Any]
        #expect(role?["lifecycle"] as? String == "core")
        #expect((role?["persona"] as? String)?.contains("Never move money") == true)
        let text = try await cli.run(["role", "show", "coder"])
        #expect(text.stdout.contains("restart    never") && text.stdout.contains("What you never do"))
    }

    @Test("a user role shows up, and a bad role file fails with its file, line and exit 65")
    func userRoles() async throws {
        let cli = try CLI(); defer { cli.cleanup() }
        try FileIO.makeDirectory(cli.home + "/roles", mode: 0o755)
        try FileIO.writeAtomically("summary: takes notes\npersona: Take notes.\n", to: cli.home + "/roles/scribe.yaml")
        let ls = try await cli.run(["role", "ls"])
        #expect(ls.stdout.contains("scribe") && ls.stdout.contains("takes notes"))
        let unknown = try await cli.run(["role", "show", "wizard"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no role named \"wizard\""))
        try FileIO.writeAtomically("persona: x\nmood: calm\n", to: cli.home + "/roles/bad.yaml")
        let bad = try await cli.run(["role", "ls"])
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("roles/bad.yaml:2: unknown key \"mood\""))
        let badName = try await cli.run(["role", "show", "../x"])
        #expect(badName.status == 64)
    }
}

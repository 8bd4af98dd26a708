/// The starter role library shipped in the binary.
public enum BuiltinRoles {
    public static let all: [Role] = [
        Role(name: "orchestrator", summary: "plans the work, splits it into lanes, spawns and reaps workers, integrates reviewed branches",
             persona: BuiltinPersonas.orchestrator, runtime: .claude, effort: "high", restart: .always, lifecycle: .core),
        Role(name: "reviewer", summary: "reads diffs, runs the tests, files findings with severity and a verdict",
             persona: BuiltinPersonas.reviewer, runtime: .claude, effort: "high", restart: .always, lifecycle: .core,
             tools: ["Read", "Grep", "Glob", "Bash(git diff:*)", "Bash(git log:*)", "Bash(git show:*)"]),
        Role(name: "coder", summary: "a worker: one task in its own worktree, small commits, tests run, never pushes",
             persona: BuiltinPersonas.coder, runtime: .claude, restart: .never, lifecycle: .ephemeral),
        Role(name: "researcher", summary: "answers one question with cited, primary evidence and a confidence level",
             persona: BuiltinPersonas.researcher, runtime: .claude, restart: .onFailure, lifecycle: .ephemeral,
             tools: ["Read", "Grep", "Glob", "WebFetch", "WebSearch", "Bash"]),
        Role(name: "analyst", summary: "turns data into conclusions with reproducible scripts and honest uncertainty",
             persona: BuiltinPersonas.analyst, runtime: .claude, restart: .onFailure, lifecycle: .ephemeral),
        Role(name: "finance", summary: "reads and reconciles financial figures, cites every source, never moves money",
             persona: BuiltinPersonas.finance, runtime: .claude, restart: .onFailure, lifecycle: .core,
             tools: ["Read", "Grep", "Glob", "WebFetch"]),
    ]
}

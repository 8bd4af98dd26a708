import Foundation

/// pi, the coding agent of badlogic/pi-mono (`pi`).
///
/// Launch: `pi --extension <run>/<agent>.pi-extension.ts [--model M] [--thinking E]`.
/// pi has no command hooks; it has TypeScript extensions that subscribe to its lifecycle
/// (`pi.on("agent_start", …)`, packages/coding-agent/docs/extensions.md). mosaic writes a small
/// extension that forwards `session_start`, `agent_start` and `agent_end` to
/// `mosaic agent hook … pi <event>` as `{"type": <event>}` on stdin. `--extension` loads it for
/// this launch only; the user's `~/.pi/agent` is untouched.
///
/// State: `agent_start` → busy; `agent_end` → waiting for input; `session_start` → ok. pi has no
/// approval prompts of its own, so it never reports waiting for approval.
public struct PiIntegration: RuntimeIntegration {
    public var kind: RuntimeKind { .pi }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        var arguments = ["--extension", context.files.piExtension]
        if let model = context.agent.model { arguments += ["--model", model] }
        if let effort = context.agent.effort { arguments += ["--thinking", effort] }
        return LaunchAdditions(arguments: arguments,
                               files: [AgentFile(path: context.files.piExtension, contents: extensionSource(context.hook))])
    }

    /// The extension. It imports nothing from pi, so it works whatever pi's package is called;
    /// the hook runs detached from pi's terminal and its failure never disturbs pi.
    public func extensionSource(_ hook: HookCommand) -> String {
        let base = JSON.array(hook.argv(.pi, "EVENT").dropLast().map(JSON.string)).rendered(pretty: false)
        return """
        // Written by mosaic for agent \(hook.agent); removed by `mosaic fleet down`. Do not edit.
        // Forwards pi's lifecycle to `mosaic agent hook`, which records busy / waiting.
        import { spawn } from "node:child_process";

        const hook = \(base);

        function report(type) {
          try {
            const child = spawn(hook[0], [...hook.slice(1), type], { stdio: ["pipe", "ignore", "ignore"] });
            child.on("error", () => {});
            child.stdin.on("error", () => {});
            child.stdin.end(JSON.stringify({ type }));
          } catch (error) {
            // A status report must never break the agent.
          }
        }

        export default function (pi) {
          for (const type of ["session_start", "agent_start", "agent_end"]) {
            pi.on(type, async () => { report(type); });
          }
        }

        """
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        let type = payload.string("type") ?? event
        switch type {
        case "session_start": return .ok("pi:session_start")
        case "agent_start": return .busy("pi:agent_start")
        case "agent_end": return .waiting("pi:agent_end", for: .input)
        default: return nil
        }
    }
}

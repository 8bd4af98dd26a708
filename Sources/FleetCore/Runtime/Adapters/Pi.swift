import Foundation

/// pi, the coding agent of badlogic/pi-mono (now earendil-works/pi; `pi`).
///
/// Launch: `pi --extension <run>/<agent>.pi-extension.ts [--model M] [--thinking E]`.
/// pi has no command hooks; it has TypeScript extensions that subscribe to its lifecycle
/// (`pi.on("agent_start", …)`, packages/coding-agent/docs/extensions.md). mosaic writes a small
/// extension that forwards `session_start`, `input`, `agent_start` and `agent_end` to
/// `mosaic agent hook … pi <event>` as `{"type": <event>}` on stdin (`input` adds the start of
/// the submitted `text`). `--extension` loads it for this launch only; the user's `~/.pi/agent`
/// is untouched.
///
/// State: `agent_start` → busy; `agent_end` → waiting for input; `session_start` → ok; `input`
/// (the text as submitted, before the model sees it) acknowledges a `[mosaic msg=<id> …]` frame,
/// which gives `agent send --verify` a definitive `accepted`, and leaves the state as it is
/// (`input` also fires for a message queued while pi works). pi has no approval prompts of its
/// own, so it never reports waiting for approval.
///
/// Measured on pi 1.0.3 as built by the pi4py wheel (`@jamwil/pi-coding-agent`, a third-party
/// "slow fork" of `@earendil-works/pi-coding-agent`; the official build could not be installed
/// here), run by node 24: the `.ts` extension loads as given (pi compiles it itself) and lists
/// under `[Extensions]` at startup; `session_start` carries `{type, reason: "startup"}`, `input`
/// `{type, text, images, source: "interactive", streamingBehavior}`, `agent_start` `{type}`,
/// `agent_end` `{type, messages}`; `--model provider/id` and `--thinking off|minimal|low|medium|
/// high|xhigh|max` are taken; `/new` starts a new session. Its process names itself `pi`
/// (process.title). A custom OpenAI-compatible server is a provider in `<agent dir>/models.json`
/// (`~/.pi/agent`, or `PI_CODING_AGENT_DIR`), `"api": "openai-completions"`.
public struct PiIntegration: RuntimeIntegration {
    public var kind: RuntimeKind { .pi }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions {
        var arguments = ["--extension", context.files.piExtension]
        if let model = context.agent.model { arguments += ["--model", model] }
        if let effort = context.agent.effort { arguments += ["--thinking", effort] }
        return LaunchAdditions(arguments: arguments,
                               files: [AgentFile(path: context.files.piExtension, contents: extensionSource(context.hook))])
    }

    /// How much of a submitted text the extension passes on: the frame is at its start, and a
    /// large paste need not travel through a hook's stdin.
    public static let inputTextLimit = 512

    /// The extension. It imports nothing from pi, so it works whatever pi's package is called;
    /// the hook runs detached from pi's terminal and its failure never disturbs pi. Its handlers
    /// return nothing, so pi's `input` goes on unchanged.
    public func extensionSource(_ hook: HookCommand) -> String {
        let base = JSON.array(hook.argv(.pi, "EVENT").dropLast().map(JSON.string)).rendered(pretty: false)
        return """
        // Written by mosaic for agent \(hook.agent); removed by `mosaic fleet down`. Do not edit.
        // Forwards pi's lifecycle to `mosaic agent hook`, which records busy / waiting and the
        // id of a message `mosaic agent send` typed.
        import { spawn } from "node:child_process";

        const hook = \(base);

        function report(payload) {
          try {
            const child = spawn(hook[0], [...hook.slice(1), payload.type], { stdio: ["pipe", "ignore", "ignore"] });
            child.on("error", () => {});
            child.stdin.on("error", () => {});
            child.stdin.end(JSON.stringify(payload));
          } catch (error) {
            // A status report must never break the agent.
          }
        }

        export default function (pi) {
          for (const type of ["session_start", "agent_start", "agent_end"]) {
            pi.on(type, async () => { report({ type }); });
          }
          pi.on("input", async (event) => {
            const text = typeof event?.text === "string" ? event.text.slice(0, \(Self.inputTextLimit)) : "";
            report({ type: "input", text });
          });
        }

        """
    }

    public func update(event: String, payload: HookPayload) -> StatusUpdate? {
        let type = payload.string("type") ?? event
        switch type {
        case "session_start": return .ok("pi:session_start")
        case "agent_start": return .busy("pi:agent_start")
        case "agent_end": return .waiting("pi:agent_end", for: .input)
        case "input":
            guard let id = StubAgent.messageId(in: payload.string("text") ?? "") else { return nil }
            return StatusUpdate(status: nil, ack: id, event: "pi:input")
        default: return nil
        }
    }
}

import Foundation

/// A roster `command:` of the operator's own. It writes its own heartbeat (`mosaic agent
/// heartbeat --status …`), so no sidecar and no hooks; what runs in the pane cannot be known, so
/// it never drifts. It is known by its prompt: a shell, ipython, a Python input() loop, the stub;
/// anything else gets the generic line prompt.
public struct CustomRuntime: Runtime {
    public var kind: RuntimeKind { .custom }
    public var binary: String? { nil }
    public var needsCommand: Bool { true }
    public var expectedCommands: Set<String>? { nil }
    public var inputShapes: [InputShape] { [.stub, .ipython, .shell, .pythonREPL, .linePrompt] }
    public var resetCommand: String? { nil }
    public var usesSidecar: Bool { false }

    public func launch(_ context: IntegrationContext) -> LaunchAdditions { LaunchAdditions() }
    public func update(event: String, payload: HookPayload) -> StatusUpdate? { nil }
}

// Written by mosaic for agent MOSAIC_AGENT; removed by `mosaic fleet down`. Do not edit.
// Forwards opencode's session and permission events to `mosaic agent hook`.
import { spawn } from "node:child_process";

const hook = MOSAIC_HOOK;
const forwarded = new Set(MOSAIC_FORWARDED_EVENTS);

function report(event) {
  try {
    const status = event.properties && event.properties.status;
    const payload = { type: event.type, properties: status && status.type ? { status: { type: status.type } } : {} };
    const child = spawn(hook[0], [...hook.slice(1), event.type], { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", () => {});
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify(payload));
  } catch (error) {
    // A status report must never break the agent.
  }
}

function acknowledge(parts) {
  try {
    const text = (Array.isArray(parts) ? parts : [])
      .filter((part) => part && part.type === "text" && typeof part.text === "string")
      .map((part) => part.text).join("\n").slice(0, MOSAIC_TEXT_LIMIT);
    if (!text.includes(MOSAIC_FRAME_OPENING)) return;
    const child = spawn(hook[0], [...hook.slice(1), "chat.message"], { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", () => {});
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify({ type: "chat.message", text }));
  } catch (error) {
    // An acknowledgement must never break the agent.
  }
}

export const MosaicStatus = async () => ({
  event: async ({ event }) => {
    if (event && forwarded.has(event.type)) report(event);
  },
  "chat.message": async (input, output) => {
    acknowledge(output && output.parts);
  },
});

// Written by mosaic for agent MOSAIC_AGENT; removed by `mosaic fleet down`. Do not edit.
// Forwards pi's lifecycle to `mosaic agent hook`, which records busy / waiting and the
// id of a message `mosaic agent send` typed.
import { spawn } from "node:child_process";

const hook = MOSAIC_HOOK;

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
    const text = typeof event?.text === "string" ? event.text.slice(0, MOSAIC_TEXT_LIMIT) : "";
    report({ type: "input", text });
  });
}

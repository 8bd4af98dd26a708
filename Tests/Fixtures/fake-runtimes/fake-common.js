// Shared by the fake runtimes in this directory (claude, codex, pi, opencode): executables that
// behave as the documented runtime does on the points mosaic's adapters rely on, and nothing
// more. They run as `node` (a `#!/usr/bin/env node` script execs node), read one message per
// line from their terminal, and answer after FAKE_BUSY_MS milliseconds (default 1500).
//   <text>      a turn: the runtime's "turn started" signal, a pause, a reply, "turn ended"
//   /approve    asks for an approval (where the runtime has approval prompts)
//   /exit [N]   exits with status N (default 0)
// FAKE_IGNORE_HUP=1 makes it outlive its pane (see repl).
"use strict";
const readline = require("node:readline");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const busyMs = Number(process.env.FAKE_BUSY_MS || 1500);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// The value after `flag` in argv (repeatable flags: every value).
function option(flag) {
  const values = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length - 1; i++) if (argv[i] === flag) values.push(argv[i + 1]);
  return values;
}

/// Imports an ES module whatever its extension (pi loads .ts through jiti; ours are plain JS).
async function importModule(file) {
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fake-runtime-")), "module.mjs");
  fs.copyFileSync(file, copy);
  try {
    return await import(copy);
  } finally {
    fs.rmSync(path.dirname(copy), { recursive: true, force: true });
  }
}

/// Runs the line loop: `turn(text)` for a message, `approve()` for /approve.
function repl(name, handlers) {
  process.stdout.write(`fake ${name} ready (model ${option("--model")[0] || option("-m")[0] || "default"})\n`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: `${name}> ` });
  let queue = Promise.resolve();
  rl.prompt();
  rl.on("line", (line) => {
    queue = queue.then(async () => {
      const text = line.trim();
      const exit = /^\/exit(?:\s+(\d+))?$/.exec(text);
      if (exit) {
        if (handlers.exit) await handlers.exit();
        process.exit(Number(exit[1] || 0));
      } else if (text === "/approve" && handlers.approve) {
        await handlers.approve();
        process.stdout.write("waiting for your approval\n");
      } else if (text) {
        await handlers.turn(text);
        process.stdout.write(`fake reply to: ${text}\n`);
      }
      rl.prompt();
    });
  });
  // FAKE_IGNORE_HUP=1: outlive the pane (ignore SIGHUP and the terminal's end), as a runtime
  // that traps SIGHUP would; the test that asks for it kills the process itself.
  if (process.env.FAKE_IGNORE_HUP) {
    process.on("SIGHUP", () => {});
    // Without its terminal, reads and writes fail with EIO: ignore those too, or node dies of them.
    process.stdin.on("error", () => {});
    process.stdout.on("error", () => {});
    rl.on("error", () => {});   // readline's setRawMode on the lost terminal: EIO
    rl.on("close", () => setInterval(() => {}, 1000));
  } else {
    rl.on("close", () => process.exit(0));
  }
}

module.exports = { busyMs, sleep, option, importModule, repl };

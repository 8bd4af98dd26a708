#!/usr/bin/env python3
"""A small OpenAI-compatible server for tests: 127.0.0.1 only, bounded, stops by itself.

aider (through litellm) talks to any OpenAI-compatible chat endpoint, and the Codex CLI to any
Responses API endpoint (a custom model provider with wire_api = "responses"), so the
integration tests run the real programs against this server instead of a paid API.

  fake-openai-server.py --port-file FILE [--delay SECONDS] [--reply TEXT] [--log FILE]
                        [--lifetime SECONDS] [--max-requests N]

- Binds 127.0.0.1 on a free port and writes that port to --port-file (atomically) once it listens.
- GET  /v1/models             -> one model, "fake".
- POST /v1/chat/completions   -> waits --delay seconds (so a client is visibly busy), then answers
                                 --reply, as server-sent events when the request asks to stream.
- POST /v1/responses          -> the same for the Responses API: after --delay, one assistant
                                 message holding --reply, streamed as the events the Codex CLI
                                 reads (response.created, response.output_item.added,
                                 response.output_text.delta, response.output_item.done,
                                 response.completed), or one response object without "stream".
- POST /v1/messages           -> Anthropic's Messages API (Claude Code), the same after --delay;
  a user message holding `RUN-COMMAND: <command>` (up to the end of its line) is answered with a
  tool_use of Claude Code's Bash tool for that command instead, so the program asks to run it;
  the request that carries the tool's result gets --reply.
  With --stream-first TEXT a streamed text answer starts at once with TEXT and the rest follows
  after --delay (a model that is visibly answering, for tests that interrupt it).
- POST /v1/messages/count_tokens -> {"input_tokens": 1}.
- --log FILE appends one JSON line per model request: {"model", "stream", "last_user"} (for a
  Responses request also "api": "responses" and "effort", its reasoning effort; last_user is the
  text of its last user message).
- With --find TEXT each model request's log line also has "found": whether TEXT is anywhere in
  its body (a persona's marker: in a system prompt, an instructions item, a read-only file).
- Other paths answer 404 and are logged as {"unknown": "<method> <path>"}.
- Stops by itself after --lifetime seconds (default 300), after --max-requests model requests
  (default 200), or as soon as the process that started it is gone.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--delay", type=float, default=1.0)
    p.add_argument("--reply", default="Fake reply.")
    p.add_argument("--stream-first")
    p.add_argument("--log")
    p.add_argument("--find")
    p.add_argument("--lifetime", type=float, default=300.0)
    p.add_argument("--max-requests", type=int, default=200)
    return p.parse_args()


# A parent may start us with signals blocked (Foundation's Process does, measured): unblock
# them, so SIGTERM and SIGINT stop the server.
signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.SIG_DFL)

ARGS = parse_args()
STATE = {"requests": 0}
LOCK = threading.Lock()


def last_user_text(messages):
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return content if isinstance(content, str) else ""
    return ""


def last_user_input_text(items):
    """The text of the last user message in a Responses request's `input` (a string or items)."""
    if isinstance(items, str):
        return items
    for item in reversed(items or []):
        if isinstance(item, dict) and item.get("role") == "user" and item.get("type", "message") == "message":
            content = item.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return content if isinstance(content, str) else ""
    return ""


def last_message_has_tool_result(messages):
    """Whether the request's last message returns a tool's result (the turn goes on after a tool)."""
    last = (messages or [{}])[-1]
    content = last.get("content") if isinstance(last, dict) else None
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "tool_result" for p in content)


def command_in(text):
    """The command a `RUN-COMMAND: <command>` line of `text` asks for (up to the line's end), if any."""
    for line in text.splitlines():
        marker = line.find("RUN-COMMAND:")
        if marker >= 0:
            return line[marker + len("RUN-COMMAND:"):].strip() or None
    return None


def requested_command(messages):
    """The command a `RUN-COMMAND: <command>` line in the last user message asks for, if any."""
    if last_message_has_tool_result(messages):
        return None
    return command_in(last_user_text(messages))


def requested_input_command(items):
    """For a Responses request: the command a `RUN-COMMAND: <command>` line of the last user
    message asks for, unless a tool's output has come back since."""
    if not isinstance(items, list):
        return None
    for item in reversed(items):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call_output":
            return None
        if item.get("role") == "user" and item.get("type", "message") == "message":
            break
    return command_in(last_user_input_text(items))


CURRENT = threading.local()


def log_entry(entry):
    if ARGS.find is not None and "unknown" not in entry:
        entry["found"] = getattr(CURRENT, "found", False)
    if ARGS.log:
        with LOCK, open(ARGS.log, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "tests"}]})
        else:
            log_entry({"unknown": "GET " + self.path})
            self.send_json(404, {"error": {"message": "not found: " + self.path}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 16 << 20:
            self.send_json(413, {"error": {"message": "request too large"}})
            return
        raw = self.rfile.read(length)
        # The marker is plain ASCII, which JSON leaves as it is.
        CURRENT.found = ARGS.find is not None and ARGS.find.encode() in raw
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self.send_json(400, {"error": {"message": "request body is not JSON"}})
            return
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/messages/count_tokens"):
            self.send_json(200, {"input_tokens": 1})
            return
        if path.endswith("/messages"):
            try:
                self.answer_messages(request)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return
        if path.endswith("/responses"):
            try:
                self.answer_responses(request)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up on the answer (codex's Esc interrupts a turn): nothing to say.
                self.close_connection = True
            return
        if not path.endswith("/chat/completions"):
            log_entry({"unknown": "POST " + self.path})
            self.send_json(404, {"error": {"message": "not found: " + self.path}})
            return
        count = self.count()
        log_entry({"model": request.get("model"), "stream": bool(request.get("stream")),
                   "last_user": last_user_text(request.get("messages"))})
        time.sleep(ARGS.delay)
        created = int(time.time())
        if request.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = {"id": "fake-%d" % count, "object": "chat.completion.chunk", "created": created, "model": "fake",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": ARGS.reply}, "finish_reason": None}]}
            self.wfile.write(("data: %s\n\n" % json.dumps(chunk)).encode())
            chunk["choices"] = [{"index": 0, "delta": {}, "finish_reason": "stop"}]
            self.wfile.write(("data: %s\n\ndata: [DONE]\n\n" % json.dumps(chunk)).encode())
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_json(200, {"id": "fake-%d" % count, "object": "chat.completion", "created": created, "model": "fake",
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": ARGS.reply},
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
        self.stop_after(count)

    def count(self):
        with LOCK:
            STATE["requests"] += 1
            return STATE["requests"]

    def stop_after(self, count):
        if count >= ARGS.max_requests:
            threading.Thread(target=SERVER.shutdown, daemon=True).start()

    def answer_responses(self, request):
        """POST /v1/responses: one assistant message, streamed as Responses API events."""
        count = self.count()
        reasoning = request.get("reasoning") if isinstance(request.get("reasoning"), dict) else {}
        log_entry({"api": "responses", "model": request.get("model"), "stream": bool(request.get("stream")),
                   "effort": reasoning.get("effort"), "last_user": last_user_input_text(request.get("input")),
                   "tools": [t.get("name") or t.get("type") for t in request.get("tools") or [] if isinstance(t, dict)],
                   "tool_use": requested_input_command(request.get("input"))})
        time.sleep(ARGS.delay)
        response_id = "resp_fake_%d" % count
        item_id = "msg_fake_%d" % count
        created = int(time.time())
        command = requested_input_command(request.get("input"))
        text = {"type": "output_text", "text": ARGS.reply, "annotations": []}
        item = {"type": "message", "id": item_id, "status": "completed", "role": "assistant", "content": [text]}
        if command:
            # Codex's exec_command, asking to run outside the sandbox: codex asks the operator.
            arguments = json.dumps({"cmd": command, "sandbox_permissions": "require_escalated",
                                    "justification": "The test asks to run this command."})
            item = {"type": "function_call", "id": "fc_fake_%d" % count, "call_id": "call_fake_%d" % count,
                    "name": "exec_command", "arguments": arguments, "status": "completed"}
        usage = {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 1,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 2}
        response = {"id": response_id, "object": "response", "created_at": created, "status": "completed",
                    "model": request.get("model") or "fake", "output": [item], "usage": usage}
        if not request.get("stream"):
            self.send_json(200, response)
            self.stop_after(count)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        started = dict(response, status="in_progress", output=[], usage=None)
        if command:
            events = [
                {"type": "response.created", "response": started},
                {"type": "response.in_progress", "response": started},
                {"type": "response.output_item.added", "output_index": 0, "item": dict(item, status="in_progress", arguments="")},
                {"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": 0,
                 "delta": item["arguments"]},
                {"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": 0,
                 "arguments": item["arguments"]},
                {"type": "response.output_item.done", "output_index": 0, "item": item},
                {"type": "response.completed", "response": response},
            ]
        else:
            events = [
                {"type": "response.created", "response": started},
                {"type": "response.in_progress", "response": started},
                {"type": "response.output_item.added", "output_index": 0,
                 "item": dict(item, status="in_progress", content=[])},
                {"type": "response.content_part.added", "item_id": item_id, "output_index": 0, "content_index": 0,
                 "part": dict(text, text="")},
                {"type": "response.output_text.delta", "item_id": item_id, "output_index": 0, "content_index": 0,
                 "delta": ARGS.reply},
                {"type": "response.output_text.done", "item_id": item_id, "output_index": 0, "content_index": 0,
                 "text": ARGS.reply},
                {"type": "response.content_part.done", "item_id": item_id, "output_index": 0, "content_index": 0,
                 "part": text},
                {"type": "response.output_item.done", "output_index": 0, "item": item},
                {"type": "response.completed", "response": response},
            ]
        for number, event in enumerate(events):
            event["sequence_number"] = number
            self.wfile.write(("event: %s\ndata: %s\n\n" % (event["type"], json.dumps(event))).encode())
        self.wfile.flush()
        self.close_connection = True
        self.stop_after(count)

    def answer_messages(self, request):
        """Anthropic's Messages API (POST /v1/messages), what Claude Code speaks: one text block."""
        count = self.count()
        messages = request.get("messages")
        command = requested_command(messages)
        log_entry({"api": "anthropic", "model": request.get("model"), "stream": bool(request.get("stream")),
                   "last_user": last_user_text(messages), "tool_result": last_message_has_tool_result(messages),
                   "tool_use": command})
        early = bool(ARGS.stream_first) and request.get("stream") and not command
        if not early:
            time.sleep(ARGS.delay)
        message_id = "msg_fake_%d" % count
        if command:
            block = {"type": "tool_use", "id": "toolu_fake_%d" % count, "name": "Bash",
                     "input": {"command": command, "description": "Run the requested command"}}
            start_block, delta = dict(block, input={}), {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            stop_reason = "tool_use"
        else:
            block = {"type": "text", "text": ARGS.reply}
            start_block, delta = {"type": "text", "text": ""}, {"type": "text_delta", "text": ARGS.reply}
            stop_reason = "end_turn"
        model = request.get("model") or "fake"
        usage = {"input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if request.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            events = [
                ("message_start", {"type": "message_start", "message": {
                    "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
                    "stop_reason": None, "stop_sequence": None, "usage": usage}}),
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": start_block}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                   "usage": {"output_tokens": 1}}),
                ("message_stop", {"type": "message_stop"}),
            ]
            if early:
                first = ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                 "delta": {"type": "text_delta", "text": ARGS.stream_first}})
                for name, data in events[:2] + [first]:
                    self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
                self.wfile.flush()
                time.sleep(ARGS.delay)
                events = events[2:]
            for name, data in events:
                self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_json(200, {"id": message_id, "type": "message", "role": "assistant", "model": model,
                                 "content": [block], "stop_reason": stop_reason,
                                 "stop_sequence": None, "usage": usage})
        self.stop_after(count)


def watchdog(parent):
    """Stops the server when its lifetime is over or the process that started it is gone."""
    deadline = time.monotonic() + ARGS.lifetime
    while time.monotonic() < deadline:
        if os.getppid() != parent:
            break
        time.sleep(0.2)
    SERVER.shutdown()


SERVER = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
SERVER.daemon_threads = True
temp = ARGS.port_file + ".tmp"
with open(temp, "w") as f:
    f.write("%d\n" % SERVER.server_address[1])
os.replace(temp, ARGS.port_file)
threading.Thread(target=watchdog, args=(os.getppid(),), daemon=True).start()
try:
    SERVER.serve_forever(poll_interval=0.2)
finally:
    SERVER.server_close()
sys.exit(0)

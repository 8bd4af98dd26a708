ts=2026-12-03T12:00:00.000Z
pid=42
status=ok

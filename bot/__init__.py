"""The Telegram side: config, wiring, handlers, rendering, delivery, jobs, CLI, sandbox."""

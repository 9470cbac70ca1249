"""The delivery engine: a paced outbox worker with one failure policy."""

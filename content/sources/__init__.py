"""Where articles come from: each source yields raw items (bytes and a stable key) to ingest."""

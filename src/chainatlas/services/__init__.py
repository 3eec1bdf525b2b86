"""Services compose the pure parts with the stores; the CLI and web call only these."""

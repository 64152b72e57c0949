"""The shared layer: the plumbing every element stands on (errors, settings, HTTP, auth, internal calls)."""

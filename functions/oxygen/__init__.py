"""Oxygen: entities (real, legal, fictional), registration, credentials, tokens and roles."""

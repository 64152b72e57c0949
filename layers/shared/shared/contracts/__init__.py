"""Typed contracts between elements: internal commands and results, and change-feed records."""

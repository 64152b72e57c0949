"""Rhenium: direct messages, platform broadcasts, system messages and read state."""

"""Carbon: groups, their members and roles, and group activities (broadcasts, distributions)."""

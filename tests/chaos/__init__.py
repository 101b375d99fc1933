"""The chaos suite: every recipe against the simulator under faults, crashes and overlap."""

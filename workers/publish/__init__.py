"""Publishing an output folder: the plan (`plan`, pure), the protocol (`protocol`: claim → upload → commit) and the
sweep of abandoned versions (`sweep`: claimed, never committed)."""

"""Publishing an output folder: the plan (`plan`, pure) and the protocol (`protocol`: claim → upload → commit)."""

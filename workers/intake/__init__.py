"""How work comes in: `submit` (one master from the command line) and `watch` (a drop folder; `watch_plan` pure)."""

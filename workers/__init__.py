"""vodfleet's fleet side: the CLI today; the queue, storage, metrics and autoscaling as they land."""

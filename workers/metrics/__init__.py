"""The fleet Prometheus metrics: what a worker records (`worker`), what a record change means (`observation`)."""

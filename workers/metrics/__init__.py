"""The fleet Prometheus metrics: what a worker records (`worker`), what a record change means (`observation`), the
store that records them (`observed_store`), and the exporter (`exporter`, which reads the broker: layer 5)."""

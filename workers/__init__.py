"""vodfleet's fleet: `pipelines` (the media core) run by workers off a queue. Each layer imports only those below it
(tests/unit/test_layers.py; ``python scripts/module_map.py`` prints the map, its module counts and cycles):

    L0  errors · exitcodes (the one error → exit-code table) · settings · keys · fingerprint   (and pipelines)
    L1  jobs/       what a job is, pure: spec, state, chunk board, part rules, spec → TranscodeRequest
    L2  store/      job records and leases (base, ops, sqlite, redis)  ·  storage/  objects (base, local, s3)
    L3  queue/      names, app (FleetApp), message, send, routing  ·  publish/  ·  metrics/  ·  webhooks/  ·  preview/
    L4  delivery/   one delivery of a job or a part under a lease: attempt (the kernel), job, part, lease, ...
    L5  queue/      tasks, control, depth, demand, drain  ·  intake/  submit, watch  ·  metrics/exporter
    L6  cli/        the `vodfleet` command, one module per subcommand  ·  autoscale
"""

"""One delivery of a job or a part under a lease: the shared kernel (`attempt`), what a worker hands it (`context`),
a job (`job`) and a part (`part`), the lease keeper (`lease`), inputs to scratch (`inputs`), progress into the store
(`progress`), chunked jobs (`chunks`, `part_files`), the watchdog (`watchdog`) and test-only faults (`faults`)."""

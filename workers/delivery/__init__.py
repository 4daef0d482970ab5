"""One delivery of a job or a part under a lease: the shared kernel (`attempt`), what a worker hands it (`context`),
a job (`job`) and a part (`part`), the lease keeper (`lease`), inputs to scratch (`inputs`), progress into the store
(`progress`), chunked jobs (`chunks`, `part_files`), the watchdog (`watchdog`), storage outages by minutes
(`outage`), an attempt's owner-named scratch (`scratch`), the encode kept for publish retries (`finished`), a
worker's sweeps of what dead attempts left (`sweep`) and test-only faults (`faults`)."""

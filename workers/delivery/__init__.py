"""One delivery of a job or a part under a lease: `job`, `part`, `chunks`, `inputs`, `lease`, `watchdog`."""

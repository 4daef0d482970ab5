"""Job records and leases: the store Protocol (`base`), its SQLite and Redis backends (`sqlite`, `redis`)."""

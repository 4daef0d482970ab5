"""Object storage for masters and published outputs: one Protocol, real backends (local folder, S3)."""

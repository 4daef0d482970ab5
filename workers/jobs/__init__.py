"""What a job is, pure: its spec (`spec`), states and record (`state`), chunk board (`board`), part rules (`parts`)."""

"""What a job is, pure: its spec (`spec`), states and record (`state`), chunk board (`board`), part rules (`parts`),
and the spec → TranscodeRequest mapping (`request`)."""

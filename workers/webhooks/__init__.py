"""Webhooks: events (`event`, pure), target checks (`target`), the outbox (`outbox`), delivery (`deliverer`)."""

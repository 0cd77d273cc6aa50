"""Campaigns selectors: reads of campaigns, audiences, people facts, the outbox and results."""

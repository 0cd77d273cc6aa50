"""Campaigns services: the only code that changes campaign state (split by subdomain)."""

"""Segments services: the only code that changes segment state."""

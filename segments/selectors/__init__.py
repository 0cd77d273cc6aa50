"""Segments selectors: reads — the rule compiler, members and history, explain, catalogue."""

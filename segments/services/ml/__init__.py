"""Segments services (ML): clustering runs, predictive models, lifetime value, scoring, drift."""

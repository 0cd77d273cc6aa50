"""Settings package: `base` for running, `test` for the suite."""

"""Console and resident pages for observations and health checks."""

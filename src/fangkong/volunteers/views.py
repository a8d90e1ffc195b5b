"""Post pages."""

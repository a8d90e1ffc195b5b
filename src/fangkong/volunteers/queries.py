"""Scoped reads of posts."""

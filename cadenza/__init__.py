"""Shared foundations of Cadenza: the error family and logging setup, used by every package."""

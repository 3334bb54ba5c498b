"""Readers: one per input format, each returning the same tidy frame."""

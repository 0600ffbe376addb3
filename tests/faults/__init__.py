"""Fault tests: crashes, redeliveries, duplicates and poison messages against a running pipeline."""

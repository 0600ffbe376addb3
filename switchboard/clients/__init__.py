"""Vendor clients: one module per external service, each the only place that speaks to it."""

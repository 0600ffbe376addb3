"""Operator tools: health, queue metrics, dead letters, catch-up, forgetting a person."""

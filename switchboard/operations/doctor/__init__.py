"""`switchboard doctor`: each setting checked against the real service, one result row per check."""

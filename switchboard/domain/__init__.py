"""Domain rules: what the bot does with a message (no Flask, no Celery, no vendor SDK)."""

"""Test harness: polling, child processes (worker, gunicorn, moto) and stand-in handles for integration tests."""

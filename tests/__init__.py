"""Switchboard's tests; a package so that `tests.harness` imports the same way from every test module."""

"""Local development and test support: stand-ins, the local stack, chat, and the process helpers tests and the bench share. Production never imports it.

Not shipped: setup.cfg packages only switchboard, webapp and tasks, so `pip install .` leaves this out; the
tests, the bench and `python -m localdev` find it from the repository root.
"""

"""Local HTTP stand-ins for Twilio and OpenAI that speak the real wire format, for tests and the dev run.

Each stand-in is a Flask app from a factory (`create_twilio_standin`, `create_openai_standin`) that keeps
its state in memory, records what it was asked, and takes injected faults under `/_standin/`. Run one
in-thread with `serve_in_thread(app)` or as a process with `python -m localdev.standins twilio|openai`.
"""

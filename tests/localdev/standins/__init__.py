"""Tests of the HTTP stand-ins, driven through the real twilio and openai SDKs."""

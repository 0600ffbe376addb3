"""Switchboard: a queue-backed WhatsApp/SMS chatbot pipeline (Twilio → SQS → OpenAI → Twilio)."""

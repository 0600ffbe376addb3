"""The dev phone: a WhatsApp-like page, served only by the local run, that drives the real pipeline."""

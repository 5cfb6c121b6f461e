"""Pre- and post-generation guardrails."""

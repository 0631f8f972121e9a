"""Adversarial tests: each attack of specs/threat-model.md with the exact status code it earns."""

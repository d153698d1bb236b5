"""Conformance suite for the LiteHQ Calendar API: verifies any deployment through HTTP only."""

"""Stateful in-memory reference implementation of the LiteHQ Calendar API, served by Connexion."""

"""The HTTP side of the mock: Connexion wiring, the request pipeline and thin operation handlers."""

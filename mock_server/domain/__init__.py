"""The mock's business rules in plain Python: no web framework is imported below this package."""

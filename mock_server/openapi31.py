"""Lets Connexion 3.3 load `openapi: 3.1.x` documents; delete once Connexion supports 3.1 itself.

Connexion 3.3 checks every document against its bundled OpenAPI 3.0 meta-schema and rejects 3.1
outright, although everything it does afterwards (resolve refs, route, read parameters and bodies)
works on our 3.1 documents. The contract is validated for real by openapi-spec-validator and prance
(`make lint`, tests/spec), so for 3.1 documents only, Connexion's own check is skipped.

`tests/mock/test_openapi31.py::test_connexion_still_rejects_openapi_31` fails as soon as a Connexion
upgrade accepts 3.1 natively: that is the signal to delete this module.
"""

from __future__ import annotations

from connexion.spec import OpenAPISpecification

# Connexion's own check (inherited from its Specification base), kept for 3.0 documents and for
# the test above.
connexion_validate_spec = OpenAPISpecification._validate_spec.__func__


def _validate_spec(cls, spec: dict) -> None:
    if str(spec.get("openapi", "")).startswith("3.1."):
        return
    connexion_validate_spec(cls, spec)


def allow_openapi_31() -> None:
    """Install the override (idempotent); the app factory calls it before adding any API."""
    if OpenAPISpecification._validate_spec.__func__ is not _validate_spec:
        OpenAPISpecification._validate_spec = classmethod(_validate_spec)

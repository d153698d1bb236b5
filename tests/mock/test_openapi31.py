"""The Connexion 3.1 shim: still needed, installed, and harmless for 3.0 documents."""

import pytest
from connexion.exceptions import InvalidSpecification
from connexion.spec import OpenAPISpecification, Specification

from mock_server.openapi31 import allow_openapi_31, connexion_validate_spec

MINIMAL_31 = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}


def test_connexion_still_rejects_openapi_31():
    """When this fails, Connexion validates 3.1 itself: delete mock_server/openapi31.py."""
    with pytest.raises(InvalidSpecification):
        connexion_validate_spec(OpenAPISpecification, dict(MINIMAL_31))


def test_allow_openapi_31_loads_31_document():
    allow_openapi_31()
    allow_openapi_31()  # idempotent
    spec = Specification.from_dict(dict(MINIMAL_31))
    assert spec["openapi"] == "3.1.0"


def test_allow_openapi_31_still_validates_30_documents():
    allow_openapi_31()
    with pytest.raises(InvalidSpecification):
        Specification.from_dict({"openapi": "3.0.3", "info": {"title": "t"}, "paths": {}})

"""The contract's patterns are read as ECMA-262 regular expressions, as JSON Schema requires."""
from mock_server.api.dialect import FORMAT_CHECKER, ContractValidator, python_pattern


def test_dollar_anchors_at_the_end_of_input_only():
    pattern = python_pattern("^bk_[A-Za-z0-9]+$")
    assert pattern.search("bk_abc")
    assert not pattern.search("bk_abc\n")


def test_dollar_inside_a_class_or_escaped_stays_a_literal_dollar():
    assert python_pattern("^[$]+$").search("$$")
    assert python_pattern(r"^a\$$").search("a$")
    assert not python_pattern(r"^a\$$").search("a$\n")


def test_contract_validator_refuses_a_trailing_newline_that_plain_jsonschema_accepts():
    from jsonschema import Draft202012Validator

    schema = {"type": "string", "pattern": "^rm_[A-Za-z0-9]+$"}
    assert Draft202012Validator(schema).is_valid("rm_studio\n")  # why the dialect exists
    errors = list(ContractValidator(schema, format_checker=FORMAT_CHECKER).iter_errors("rm_studio\n"))
    assert [e.message for e in errors] == ["'rm_studio\\n' does not match '^rm_[A-Za-z0-9]+$'"]

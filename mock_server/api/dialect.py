"""The JSON Schema dialect the contract is read in: Draft 2020-12 with ECMA-262 regular expressions.

JSON Schema says `pattern` is an ECMA-262 regular expression, where `$` matches only at the end of
the input. jsonschema hands the pattern to Python's `re`, whose `$` also matches just before a
final newline: `^bk_[A-Za-z0-9]+$` would accept "bk_abc\\n", so an id with a trailing newline got
past validation. Every validator the mock builds (requests, the contract check of responses, the
compiled fast checks) reads patterns through `python_pattern`, which turns each `$` anchor into
`\\Z`; everything else our patterns use means the same in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from jsonschema import Draft202012Validator, ValidationError, validators


@lru_cache(maxsize=None)
def python_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an ECMA-262 `pattern` so Python's `re.search` answers as ECMA's would."""
    out, in_class, index = [], False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        index += 1
    return re.compile("".join(out))


def _pattern(validator, pattern: str, instance, schema) -> Iterator[ValidationError]:
    # Same check and wording as jsonschema's own `pattern`, with ECMA's end-of-input `$`.
    if validator.is_type(instance, "string") and not python_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


ContractValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER

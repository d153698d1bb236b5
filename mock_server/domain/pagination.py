"""Opaque keyset cursors, HMAC-signed and bound to the query (workspace and filters) they came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

import orjson

from .errors import InvalidRequest

_BAD_CURSOR = "cursor is invalid or was issued for other filters."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """`<payload>.<mac>`: the payload names the last item seen; the MAC covers payload and binding.

    The binding (what the cursor was issued for) is not stored in the cursor but mixed into the MAC,
    so a cursor replayed with other filters, another workspace or another list simply fails to verify.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        # Keyed once; each MAC starts from a copy (the same digest as hmac.new(secret, message)).
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def _mac(self, payload: bytes, binding: object) -> bytes:
        message = orjson.dumps(binding, option=orjson.OPT_SORT_KEYS) + b"\n" + payload
        mac = self._keyed.copy()
        mac.update(message)
        return mac.digest()[:18]

    def encode(self, position: object, binding: object) -> str:
        payload = orjson.dumps(position)
        return _b64(payload) + "." + _b64(self._mac(payload, binding))

    def decode(self, cursor: str, binding: object) -> object:
        try:
            payload_text, mac_text = cursor.split(".")
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except (ValueError, binascii.Error):
            raise InvalidRequest(_BAD_CURSOR, param="cursor") from None
        if not hmac.compare_digest(mac, self._mac(payload, binding)):
            raise InvalidRequest(_BAD_CURSOR, param="cursor")
        return orjson.loads(payload)

"""Handlers of the control API's webhook operations: the endpoint, deliveries, redelivery."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse

from ..delivery import WebhookDispatcher
from ..domain.backend import Backend
from .responses import json_response
from .state import current_state


class WebhookControlApi:
    def __init__(self, backend: Backend, dispatcher: WebhookDispatcher) -> None:
        self.backend = backend
        self.dispatcher = dispatcher

    def operations(self) -> dict:
        names = ("getWebhook", "setWebhook", "deleteWebhook", "listDeliveries", "redeliverEvent")
        return {name: getattr(self, name) for name in names}

    async def getWebhook(self, id_):
        return json_response(self.backend.webhook_endpoint(id_).to_wire())

    async def setWebhook(self, id_):
        body = current_state().body
        endpoint = self.backend.register_webhook(
            id_, url=body["url"], secret=body.get("secret"), max_attempts=body.get("max_attempts"),
            base_delay_ms=body.get("base_delay_ms"), max_delay_ms=body.get("max_delay_ms"), timeout_ms=body.get("timeout_ms"),
        )
        self.dispatcher.endpoint_changed(id_)
        return json_response(endpoint.to_wire())

    async def deleteWebhook(self, id_):
        self.backend.remove_webhook(id_)
        self.dispatcher.endpoint_changed(id_)
        return ConnexionResponse(status_code=204)

    async def listDeliveries(self, id_, event_id=None, status=None):
        deliveries = self.backend.deliveries_of(id_, event_id=event_id, status=status)
        return json_response({"data": [d.to_wire() for d in deliveries]})

    async def redeliverEvent(self, id_):
        return json_response(self.dispatcher.redeliver(id_).to_wire(), 202)

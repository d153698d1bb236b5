"""Handlers of the mock control API (openapi/mock-control.yaml), served under /_mock."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse

from ..domain.backend import Backend
from ..domain.clock import MockClock
from ..domain.instants import format_instant, parse_instant
from ..domain.models import Workspace
from .responses import json_response
from .state import current_state


class ControlApi:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def operations(self) -> dict:
        names = ("resetMock", "getClock", "setClock", "advanceClock", "completeCheckout", "failCheckout",
                 "markNoShow", "listWorkspaces", "getWorkspace", "configureWorkspace", "listEvents")
        return {name: getattr(self, name) for name in names}

    async def resetMock(self):
        self.backend.reset()
        return ConnexionResponse(status_code=204)

    def _clock(self, fired: int | None = None) -> ConnexionResponse:
        clock = self.backend.clock
        body = {"now": format_instant(clock.now()), "frozen": isinstance(clock, MockClock) and clock.frozen}
        if fired is not None:
            body["fired"] = fired
        return json_response(body)

    async def getClock(self):
        self.backend.catch_up()
        return self._clock()

    async def setClock(self):
        body = current_state().body
        instant = parse_instant(body["now"], param="now")
        return self._clock(self.backend.set_clock(instant, frozen=body.get("frozen")))

    async def advanceClock(self):
        return self._clock(self.backend.advance_clock(current_state().body["seconds"]))

    async def completeCheckout(self, id_):
        return json_response(self.backend.complete_checkout(id_).to_wire())

    async def failCheckout(self, id_):
        return json_response(self.backend.fail_checkout(id_).to_wire())

    async def markNoShow(self, id_):
        return json_response(self.backend.mark_no_show(id_).to_wire())

    def _workspace(self, workspace: Workspace) -> dict:
        windows = {self.backend.store.rooms[r].checkout_window_minutes for r in self.backend.store.rooms_by_workspace[workspace.id]}
        return {
            **workspace.to_wire(),
            "checkout_window_minutes": windows.pop() if len(windows) == 1 else None,
            "tokens": [t.to_wire() for t in self.backend.tokens_of(workspace.id)],
            "members": [
                {"id": m.id, "name": m.name, "email": m.email, "company_id": m.company_id}
                for m in sorted(self.backend.members_of(workspace.id), key=lambda m: m.id)
            ],
        }

    async def listWorkspaces(self):
        workspaces = sorted(self.backend.store.workspaces.values(), key=lambda w: w.id)
        return json_response({"data": [self._workspace(w) for w in workspaces]})

    async def getWorkspace(self, id_):
        return json_response(self._workspace(self.backend.workspace(id_)))

    async def configureWorkspace(self, id_):
        return json_response(self._workspace(self.backend.configure_workspace(id_, current_state().body)))

    async def listEvents(self, id_):
        return json_response({"data": [e.to_wire() for e in self.backend.events_of(id_)]})

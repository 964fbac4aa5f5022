"""Tickets through the API besides the generic CRUD and transitions: the handling entries and the
supervisor's queue (unassigned tickets, breaches first, with a keyset cursor; the handlers' load)."""

from datetime import datetime

from ninja import Schema

from kehu.core.api_input import StrictIn


class HandlingIn(StrictIn):
    description: str
    minutes: int = 0


class HandlingOut(Schema):
    id: int
    description: str
    minutes: int
    by: int | None
    at: datetime


class QueueTicketOut(Schema):
    id: int
    number: str
    summary: str
    customer: int
    customer_name: str
    priority: str
    type: str | None
    breached: bool
    response_due: datetime | None
    resolution_due: datetime | None
    created_at: datetime


class LoadOut(Schema):
    handler: int
    name: str
    open: int
    breached: int


class QueueOut(Schema):
    unassigned: list[QueueTicketOut]
    next: str  # pass as ?after= for the next page ("" on the last)
    load: list[LoadOut]


def entry_out(e) -> dict:
    return {"id": e.pk, "description": e.description, "minutes": e.minutes, "by": e.by_id, "at": e.at}


def extend(router, out_schema, rt):
    from kehu.core.api import get_visible, require, respond

    from . import home, services

    @router.get("/queue", response=QueueOut, operation_id="ticket_queue",
                summary="The supervisor's queue: unassigned tickets (breaches first, then by resolution due time) "
                        "and each handler's open tickets")
    def ticket_queue(request, after: str = ""):
        require(request, rt, "assign")
        rows, cursor = home.unassigned(request.auth, after=after)
        # answered as built, as the generic lists are (respond): the schema documents it; validating
        # 50 tickets and ~200 handlers' rows against it was a third of the request's Python
        unassigned = [{"id": t.pk, "number": t.number, "summary": t.summary, "customer": t.customer_id,
                       "customer_name": t.customer.name, "priority": t.priority,
                       "type": t.type.code if t.type_id else None, "breached": t.breached,
                       "response_due": t.response_due, "resolution_due": t.resolution_due,
                       "created_at": t.created_at} for t in rows]
        load = [{"handler": r["user"].pk, "name": str(r["user"]), "open": r["open"], "breached": r["breached"]}
                for r in home.handler_load(request.auth)]
        return respond(request, {"unassigned": unassigned, "next": cursor, "load": load})

    @router.get("/{int:pk}/handling", response=list[HandlingOut], operation_id="ticket_handling",
                summary="The ticket's handling entries, newest first")
    def list_handling(request, pk: int):
        require(request, rt, "view")
        ticket = get_visible(request, rt, pk)
        return [entry_out(e) for e in ticket.entries.order_by("-at", "-id")[:500]]

    @router.post("/{int:pk}/handling", response={201: HandlingOut}, operation_id="ticket_add_handling",
                 summary="Record what was done (the handler or a supervisor, while the ticket is new or assigned); "
                         "the first entry is the first response")
    def add_handling(request, pk: int, payload: HandlingIn):
        require(request, rt, "edit")
        ticket = get_visible(request, rt, pk)
        entry = services.add_handling(ticket, request.auth, description=payload.description, minutes=payload.minutes)
        return 201, entry_out(entry)

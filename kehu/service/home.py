"""The supervisor's queue, the My day panels and the SLA reminders (declared in registrations.py)."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import dictionary
from kehu.core.registries import Due

from .models import OPEN_STATES, Ticket

WARN_KIND = "ticket_sla_warning"  # to the handler, the policy's lead before a due time
BREACH_KIND = "ticket_sla_breach"  # to the supervisors, at the breach
LOOKBACK = datetime.timedelta(days=7)  # a breach older than this when reminders started is not announced
QUEUE_PAGE = 50
NEW_ASSIGNMENT = datetime.timedelta(hours=24)
# what the queue, the team's breaches and My day show of a ticket: whole tickets with their whole
# customers and handlers cost ~175 µs a row to read and build (SQLite, 20 breaches: 3.5 ms, their ids 0.7)
QUEUE_COLUMNS = ("id", "number", "summary", "status", "priority", "type", "breached", "response_due",
                 "resolution_due", "created_at", "handler", "customer__id", "customer__name")
HANDLER_NAME = ("handler__id", "handler__username", "handler__full_name")


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


# --- who handles and who supervises ----------------------------------------------------------------
def _roles_with(*rights):
    from kehu.accounts.models import Role

    return [r.pk for r in Role.objects.all() if any(x in (r.rights or []) for x in rights)]


def handlers():
    """Active users who may handle tickets (ticket.edit), service agents first. Only the columns a
    name needs, and the service agents' ids from the role links: the queue lists every handler (200
    users of the bench: 130 ms with whole rows and their roles prefetched, 8 ms so). Kept for a few
    seconds in the process's memory of users (kehu.accounts.authcache, emptied when a user or a role
    changes): the instances are shared, read them only."""
    from kehu.accounts.authcache import remembered

    return remembered("service-handlers", _handlers)


def _handlers():
    from kehu.accounts.models import User

    roles = _roles_with("ticket.edit", "ticket.*", "*")
    users = list(User.objects.filter(is_active=True, roles__in=roles).distinct()
                 .only("id", "username", "full_name").order_by("username"))
    agents = set(User.roles.through.objects.filter(role__code="service").values_list("user_id", flat=True))
    for u in users:
        u.is_agent = u.pk in agents
    return sorted(users, key=lambda u: (not u.is_agent, u.username))


def _assigners() -> frozenset:
    from kehu.accounts.models import User

    return frozenset(User.roles.through.objects.filter(role_id__in=_roles_with("ticket.assign", "ticket.*", "*"))
                     .values_list("user_id", flat=True))


def queue_team(people) -> list:
    """The handlers the queue offers for one-click assignment: the service agents and those who
    assign tickets (supervisors), out of `people` (handlers()); all of them when there is no such
    team. Anyone else who may handle a ticket is chosen on the ticket's page: 50 rows each listing
    every account manager made the bench's queue page 560 KB."""
    from kehu.accounts.authcache import remembered

    assigners = remembered("service-assigners", _assigners)
    team = [u for u in people if getattr(u, "is_agent", False) or u.pk in assigners]
    return team or list(people)


def supervisors_of(tickets) -> dict[int, list]:
    """{ticket id: the active users who assign tickets (ticket.assign) and see it}; an
    administrator only when no one else does."""
    from kehu.accounts.models import User

    ids = [t.pk for t in tickets]
    out: dict[int, list] = {i: [] for i in ids}
    if not ids:
        return out
    explicit = User.objects.filter(is_active=True, roles__in=_roles_with("ticket.assign", "ticket.*")).distinct()
    admins = User.objects.filter(is_active=True, roles__in=_roles_with("*")).distinct()
    for group in (list(explicit), list(admins)):
        missing = [i for i in ids if not out[i]]
        if not missing:
            break
        for user in group:
            for pk in Ticket.objects.visible_to(user).filter(pk__in=missing).values_list("pk", flat=True):
                out[pk].append(user)
    return out


# --- the queue --------------------------------------------------------------------------------------
def unassigned(user, after: str = "", limit: int = QUEUE_PAGE):
    """Visible new tickets, breaches first, then by resolution due time (ticket_queue_idx), a page
    after the keyset cursor `after` ("breached,due-iso,id"). Returns (rows, next cursor or "")."""
    qs = Ticket.objects.visible_to(user).filter(status=Ticket.Status.NEW)
    if after:
        try:
            b, due, pk = after.split(",")
            b, due, pk = b == "1", datetime.datetime.fromisoformat(due), int(pk)
        except ValueError:
            b = None
        if b is not None:
            qs = qs.filter(Q(breached__lt=b) | Q(breached=b, resolution_due__gt=due)
                           | Q(breached=b, resolution_due=due, pk__gt=pk))
    rows = list(qs.select_related("customer").only(*QUEUE_COLUMNS).order_by("-breached", "resolution_due", "id")
                [:limit + 1])
    dictionary.attach(rows, dictionary.dict_fields(Ticket))  # the type from memory, not a join
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = ""
    if more and rows:
        last = rows[-1]
        cursor = f"{int(last.breached)},{last.resolution_due.isoformat()},{last.pk}"
    return rows, cursor


def handler_load(user, people=None) -> list[dict]:
    """Each handler's open tickets (and breached ones) among those the user sees, busiest first;
    handlers with nothing open are listed too (`people`: handlers() when the caller has them)."""
    counts: dict[int, dict] = {}
    # one status at a time, from ticket_status_handler_idx alone: the handler is counted, not the id,
    # which the index lacks (PostgreSQL read 18,000 heap pages to count ids: 48 ms; from the index: 7)
    for status in OPEN_STATES:
        for row in (Ticket.objects.visible_to(user).filter(status=status, handler__isnull=False).values("handler")
                    .annotate(open=Count("handler"), breached=Count("handler", filter=Q(breached=True))).order_by()):
            c = counts.setdefault(row["handler"], {"open": 0, "breached": 0})
            c["open"] += row["open"]
            c["breached"] += row["breached"]
    rows = []
    for u in handlers() if people is None else people:
        c = counts.pop(u.pk, {"open": 0, "breached": 0})
        rows.append({"user": u, "open": c["open"], "breached": c["breached"]})
    if counts:  # a handler who lost the right still holds tickets
        from kehu.accounts.models import User

        for u in User.objects.filter(pk__in=counts).only("id", "username", "full_name").order_by("username"):
            rows.append({"user": u, "open": counts[u.pk]["open"], "breached": counts[u.pk]["breached"]})
    return sorted(rows, key=lambda r: (-r["breached"], -r["open"], r["user"].username))


def team_breaches(user, limit=20):
    """The open breached tickets the user sees, the longest overdue first: per open status, read in
    due order from ticket_breached_due_idx and stopped at `limit`."""
    rows = []
    for status in OPEN_STATES:
        rows += (Ticket.objects.visible_to(user).filter(status=status, breached=True)
                 .select_related("customer", "handler").only(*QUEUE_COLUMNS, *HANDLER_NAME)
                 .order_by("resolution_due", "id")[:limit])
    return sorted(rows, key=lambda t: (t.resolution_due, t.pk))[:limit]


# --- My day -----------------------------------------------------------------------------------------
def my_open_tickets(user, limit=20):
    rows = list(Ticket.objects.visible_to(user).filter(status__in=OPEN_STATES, handler=user)
                .select_related("customer").only(*QUEUE_COLUMNS, "assigned_at", "responded_at")
                .order_by("resolution_due", "id")[:limit])
    recent = timezone.now() - NEW_ASSIGNMENT
    for t in rows:
        t.is_new_assignment = bool(t.assigned_at and t.assigned_at >= recent and t.responded_at is None)
    return rows


def my_tickets_panel(request, ctx):
    rows = my_open_tickets(request.user)
    ctx["my_tickets"] = rows
    ctx["my_breaches"] = sum(1 for t in rows if t.breached)
    ctx["my_new"] = sum(1 for t in rows if t.is_new_assignment)
    return "service/home_my_tickets.html" if rows else None


def queue_panel(request, ctx):
    rows, _cursor = unassigned(request.user, limit=10)
    ctx["queue_rows"] = rows
    shown = {t.pk for t in rows}  # an unassigned breach is listed once, among the unassigned above
    ctx["team_breaches"] = [t for t in team_breaches(request.user, limit=10) if t.pk not in shown]
    return "service/home_queue.html" if rows or ctx["team_breaches"] else None


# --- reminders --------------------------------------------------------------------------------------
def _open():
    return Ticket.objects.filter(status__in=OPEN_STATES)


def warning_reminders(now, ledger) -> list[Due]:
    """The handler of an open ticket, once per due time, when the policy's lead before it starts."""
    out = []
    response = (_open().filter(handler__isnull=False, handler__is_active=True, responded_at__isnull=True,
                               response_warn_at__lte=now, response_due__gt=now)
                .select_related("handler", "customer"))
    resolution = (_open().filter(handler__isnull=False, handler__is_active=True, resolution_warn_at__lte=now,
                                 resolution_due__gt=now).select_related("handler", "customer"))
    rows = [(t, t.response_due, _("First response due %(when)s")) for t in response]
    rows += [(t, t.resolution_due, _("Resolution due %(when)s")) for t in resolution]
    sent = ledger.sent_keys(WARN_KIND, Ticket, list({t.pk for t, _d, _m in rows}))
    for t, due, what in rows:
        if (t.pk, due, t.handler_id) in sent:
            continue
        out.append(Due(WARN_KIND, t, due, t.handler, _("Ticket about to breach its SLA: %(ticket)s") % {"ticket": t},
                       (what % {"when": _when(due)}) + "\n" + _("Customer: %(name)s") % {"name": t.customer},
                       reverse("service:ticket_detail", args=[t.pk])))
    return out


def breach_reminders(now, ledger) -> list[Due]:
    """The supervisors who see an open ticket, once per missed due time, when it is missed."""
    since = now - LOOKBACK
    response = list(_open().filter(responded_at__isnull=True, response_due__lte=now, response_due__gt=since)
                    .select_related("customer", "handler"))
    resolution = list(_open().filter(resolution_due__lte=now, resolution_due__gt=since)
                      .select_related("customer", "handler"))
    rows = [(t, t.response_due, _("The first response was due %(when)s.")) for t in response]
    rows += [(t, t.resolution_due, _("The resolution was due %(when)s.")) for t in resolution]
    if not rows:
        return []
    tickets = {t.pk: t for t, _d, _m in rows}
    sups = supervisors_of(tickets.values())
    sent = ledger.sent_keys(BREACH_KIND, Ticket, list(tickets))
    out = []
    for t, due, what in rows:
        for user in sups.get(t.pk, []):
            if (t.pk, due, user.pk) in sent:
                continue
            handler = t.handler or _("nobody (unassigned)")
            out.append(Due(BREACH_KIND, t, due, user, _("SLA breached: %(ticket)s") % {"ticket": t},
                           (what % {"when": _when(due)}) + "\n" + _("Customer: %(name)s. Handler: %(handler)s.") % {
                               "name": t.customer, "handler": handler},
                           reverse("service:ticket_detail", args=[t.pk])))
    return out

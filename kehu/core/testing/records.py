"""The generic test base. Every registered record type gets these tests by declaring a few lines:

    class TestContact(RecordTypeTests):
        key = "contact"
        def make(self, org, owner): ...           # one saved record owned by `owner`
        def form_data(self, org): ...             # valid UI form data for a new record
        api_data = ...                            # (or def api_payload(self, org)) valid API payload
        update = {"title": "采购总监"}           # a valid change
        invalid = {"email": "not-an-email"}       # a change that must be refused, naming the field

It checks UI and API create / read / update / delete, the change log, the permission matrix
(no right -> 403; outside the data scope -> 404; allowed -> success), stale versions (409/412),
bad input (4xx naming the field, nothing written) and query counts (no N+1).
"""

import json

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from kehu.accounts import authcache
from kehu.core.registry import registry
from kehu.core.relations import check_delete

from .factories import auth


def fresh_caches() -> None:
    """Empty the per-process caches a list reads (users and rights, dictionary values, custom
    fields) before a measured request, so two measurements load the same things: the dictionary and
    custom-field caches expire after 10 s, and making a dozen records under load took longer, so
    the second request alone reloaded them (a flaky "N+1" in CI)."""
    from kehu.core import customfields, dictionary

    authcache.clear()
    dictionary._invalidate()
    customfields._invalidate()


class RecordTypeTests:
    key: str = ""
    update: dict = {}
    invalid: dict = {}
    # who may do what in the default roles: (role attr on org, action) pairs that must be allowed
    allowed_user = "admin"  # a user with every right on this record type
    denied_user = "nobody"  # a user with no right at all
    list_query_budget = 15  # queries for a list page, whatever the number of rows (the page's ids, then its rows)

    # --- to be provided -------------------------------------------------------
    def make(self, org, owner):
        raise NotImplementedError

    def form_data(self, org) -> dict:
        raise NotImplementedError

    def api_payload(self, org) -> dict:
        return self.form_data(org)

    # --- helpers --------------------------------------------------------------
    @property
    def rt(self):
        return registry.get(self.key)

    @property
    def model(self):
        return self.rt.model

    def client_for(self, user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def api_url(self, pk=None):
        base = f"/api/v1/{self.rt.api_prefix}/"
        return f"{base}{pk}" if pk else base

    def url(self, action, *args):
        return reverse(self.rt.url_name(action), args=args)

    @property
    def scoped(self):
        return getattr(self.model, "scope_owner_field", None) is not None

    def owner_in_scope(self, org):
        return org.manager

    # --- UI -------------------------------------------------------------------
    def test_ui_list_and_query_count(self, org):
        owner = self.owner_in_scope(org)
        for _i in range(3):
            self.make(org, owner)
        client = self.client_for(getattr(org, self.allowed_user))
        client.get(self.url("list"))  # warm caches (content types)
        fresh_caches()  # creating users/departments empties them: compare like with like
        with CaptureQueriesContext(connection) as few:
            assert client.get(self.url("list")).status_code == 200
        for _i in range(12):
            self.make(org, owner)
        fresh_caches()
        with CaptureQueriesContext(connection) as many:
            response = client.get(self.url("list"))
        assert response.status_code == 200
        extra = [q["sql"][:300] for q in many.captured_queries[len(few):]] if len(many) > len(few) else []
        assert len(many) == len(few), f"list queries grow with the number of rows (N+1): {extra}"
        assert len(many) <= self.list_query_budget, [q["sql"] for q in many.captured_queries]

    def test_ui_detail_and_history(self, org):
        obj = self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.allowed_user))
        assert client.get(self.url("detail", obj.pk)).status_code == 200
        api = Client(**auth(getattr(org, self.allowed_user)))
        response = api.patch(self.api_url(obj.pk), json.dumps(self.update), content_type="application/json")
        assert response.status_code == 200, response.content
        # the page names its users (owner, created and updated by…) from one narrow query: never a
        # whole user row (password hash, settings) read per field, only the session's own user
        with CaptureQueriesContext(connection) as queries:
            assert client.get(self.url("detail", obj.pk)).status_code == 200
        whole_users = [q["sql"] for q in queries.captured_queries
                       if 'FROM "accounts_user"' in q["sql"] and '"accounts_user"."password"' in q["sql"]]
        from django.contrib.auth import get_user_model

        assert len(whole_users) <= (2 if self.model is get_user_model() else 1), whole_users  # a user's page reads its user
        history = client.get(self.url("history", obj.pk))
        assert history.status_code == 200
        entries = list(history.context["entries"])
        field, value = next(iter(self.update.items()))
        assert any(field in (e.changes_dict or {}) for e in entries), "the change is not in the history"
        assert escape(str(value)) in history.content.decode() or str(value) in history.content.decode()

    def test_ui_create(self, org):
        client = self.client_for(getattr(org, self.allowed_user))
        assert client.get(self.url("add")).status_code == 200
        before = self.model._default_manager.count()
        response = client.post(self.url("add"), self.form_data(org))
        assert response.status_code == 302, getattr(response, "context", {}) and response.context["form"].errors
        assert self.model._default_manager.count() == before + 1
        obj = self.model._default_manager.order_by("-pk").first()
        assert LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.CREATE).exists()

    def test_ui_create_bad_input_shows_field_error(self, org):
        client = self.client_for(getattr(org, self.allowed_user))
        data = {**self.form_data(org), **self.invalid}
        before = self.model._default_manager.count()
        response = client.post(self.url("add"), data)
        assert response.status_code == 200
        for field in self.invalid:
            assert field in response.context["form"].errors, response.context["form"].errors
        assert self.model._default_manager.count() == before

    def test_ui_edit_logs_before_and_after(self, org):
        obj = self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.allowed_user))
        assert client.get(self.url("edit", obj.pk)).status_code == 200
        from kehu.core.api import form_data

        data = form_data(self.rt, {}, obj)
        data.update(self.update)
        response = client.post(self.url("edit", obj.pk), data)
        assert response.status_code == 302, response.context["form"].errors
        entry = LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.UPDATE).latest("id")
        field, value = next(iter(self.update.items()))
        assert field in entry.changes_dict
        assert str(value) in str(entry.changes_dict[field][1])

    def test_ui_validate_single_field_htmx(self, org):
        client = self.client_for(getattr(org, self.allowed_user))
        field = next(iter(self.invalid))
        data = {**self.form_data(org), **self.invalid, "_validate": field}
        response = client.post(self.url("add"), data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert f'id="field-{field}"' in response.content.decode()
        assert "field-errors" in response.content.decode()

    def test_ui_delete_and_restore(self, org):
        obj = self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.allowed_user))
        assert client.get(self.url("delete", obj.pk)).status_code == 200
        try:
            check_delete(self.rt, obj)  # the record type's own check and its Protect declarations
            refused = None
        except ValidationError as exc:
            refused = exc
        response = client.post(self.url("delete", obj.pk), follow=True)
        assert response.status_code == 200
        if refused is not None:  # e.g. users are deactivated, never deleted: the user is told why
            assert self.model._default_manager.filter(pk=obj.pk).exists()
            shown = " ".join(str(m) for m in response.context["messages"])
            assert refused.messages[0] in shown, shown
            return
        if not self.rt.is_kehu_model:
            assert not self.model._default_manager.filter(pk=obj.pk).exists(), "delete answered but kept the record"
            return
        assert not self.model._default_manager.filter(pk=obj.pk).exists()
        assert self.model.all_objects.filter(pk=obj.pk, deleted_at__isnull=False).exists()
        assert client.get(self.url("detail", obj.pk)).status_code == 404
        assert client.get(self.url("recycle_bin")).status_code == 200
        assert client.post(self.url("restore", obj.pk)).status_code == 302
        assert self.model._default_manager.filter(pk=obj.pk).exists()

    def test_ui_no_right_is_403(self, org):
        obj = self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.denied_user))
        for url in (self.url("list"), self.url("detail", obj.pk), self.url("add"), self.url("edit", obj.pk)):
            assert client.get(url).status_code == 403, url
        assert client.post(self.url("add"), self.form_data(org)).status_code == 403

    def test_export_csv_and_xlsx(self, org):
        self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.allowed_user))
        response = client.get(self.url("list"), {"format": "csv"})
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert len(body.strip().splitlines()) >= 2
        response = client.get(self.url("list"), {"format": "xlsx"})
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:2] == b"PK"

    def test_ui_list_bad_page_size_is_not_an_error(self, org):
        self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.allowed_user))
        for value in ("abc", "-5", "0", "100000", ""):
            assert client.get(self.url("list"), {"per_page": value}).status_code == 200, value

    def test_bulk_actions(self, org):
        """Every declared bulk action answers with a message (or a file: the selected contacts'
        vCards; or a page asking for more that posts back to the bulk view: the campaign to add the
        selected customers to), never a 500; tags and deletes take effect; an action the record type
        does not declare is refused (404)."""
        objs = [self.make(org, self.owner_in_scope(org)) for _i in range(2)]
        user = getattr(org, self.allowed_user)
        client = self.client_for(user)
        declared = [a.name for a in self.rt.get_bulk_actions()]
        response = client.post(self.url("bulk"), {"action": "not-declared", "pk": [o.pk for o in objs]})
        assert response.status_code == 404
        names = declared + ["tag"]  # "tag" is declared only where records carry tags: elsewhere a 404
        for name in names:
            if name in ("delete", "transfer"):
                continue
            data = {"action": name, "pk": [o.pk for o in objs], "value": "批量标签"}
            response = client.post(self.url("bulk"), data)
            downloaded = response.status_code == 200 and "attachment" in response.get("Content-Disposition", "")
            asks = (response.status_code == 200 and not downloaded
                    and f'action="{self.url("bulk")}"' in response.content.decode())
            assert response.status_code in (302, 404) or downloaded or asks, (name, response.status_code)
            if name == "tag" and self.rt.is_kehu_model:
                assert all("批量标签" in [t.name for t in self.model.objects.get(pk=o.pk).tags] for o in objs)
        response = client.post(self.url("bulk"), {"action": "delete", "pk": [objs[0].pk]}, follow=True)
        assert response.status_code == 200
        if self.rt.is_kehu_model:
            assert not self.model._default_manager.filter(pk=objs[0].pk).exists()

    def test_owner_change_needs_the_assign_right(self, org):
        """Without `<module>.assign` no form or payload may set another owner (UI: error on the
        field; API: 422 naming `owner`), on create and on edit; nothing is written."""
        from kehu.accounts.models import Role
        from kehu.core.models import Notification

        if "owner" not in self.rt.form.base_fields:
            return  # this record type has no owner to give away
        module = self.rt.module
        role = Role.objects.create(code=f"no-assign-{module}", name="无指派权", data_scope="own",
                                   rights=[f"{module}.{a}" for a in ("view", "create", "edit")])
        from kehu.core.testing.factories import make_user

        clerk = make_user(f"clerk-{module}", department=org.team)
        clerk.roles.add(role)
        stranger = org.manager2  # another department
        ui, api = self.client_for(clerk), Client(**auth(clerk))
        before = self.model._default_manager.count()
        response = ui.post(self.url("add"), {**self.form_data(org), "owner": stranger.pk})
        assert response.status_code == 200 and "owner" in response.context["form"].errors
        response = api.post(self.api_url(), json.dumps({**self.api_payload(org), "owner": stranger.pk}),
                            content_type="application/json")
        assert response.status_code in (403, 422), response.content
        if response.status_code == 422:
            assert "owner" in response.json()["errors"], response.content
        assert self.model._default_manager.count() == before
        obj = self.make(org, clerk)
        response = api.patch(self.api_url(obj.pk), json.dumps({"owner": stranger.pk}), content_type="application/json")
        assert response.status_code in (403, 422), response.content
        from kehu.core.api import form_data

        data = {**form_data(self.rt, {}, obj), "owner": stranger.pk}
        response = ui.post(self.url("edit", obj.pk), data)
        assert response.status_code == 200 and "owner" in response.context["form"].errors
        assert self.model._default_manager.get(pk=obj.pk).owner_id == clerk.pk
        # the form shows the owner read-only
        page = ui.get(self.url("edit", obj.pk)).content.decode()
        assert 'name="owner"' in page and "disabled" in page.split('name="owner"', 1)[1].split(">", 1)[0]
        # someone with the right may: the new owner is told, the change is logged
        boss = Client(**auth(org.admin))
        response = boss.patch(self.api_url(obj.pk), json.dumps({"owner": org.manager.pk}),
                              content_type="application/json")
        assert response.status_code == 200, response.content
        assert self.model._default_manager.get(pk=obj.pk).owner_id == org.manager.pk
        assert Notification.objects.filter(user=org.manager).exists(), "the new owner is not told"
        entry = LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.UPDATE).latest("id")
        assert "owner" in entry.changes_dict and entry.actor == org.admin

    def test_export_stays_in_scope(self, org):
        mine = self.make(org, self.owner_in_scope(org))
        theirs = self.make(org, org.manager2) if self.scoped else None
        user = org.manager if self.scoped else getattr(org, self.allowed_user)
        if not user.has_right(self.rt.module, "export"):
            user = getattr(org, self.allowed_user)
        client = self.client_for(user)
        response = client.get(self.url("list"), {"format": "csv"})
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert len(body.strip().splitlines()) >= 2, "the export is empty"
        if theirs is not None and user == org.manager:
            from kehu.core.registry import Column

            first = self.rt.available_columns()
            label = next(iter(first.values()))
            value = str(Column(label.name, "").value(theirs) or "")
            mine_value = str(Column(label.name, "").value(mine) or "")
            if value and value != mine_value:
                assert value not in body, "the export shows a record outside the user's scope"

    def test_authorization_matrix(self, org):
        broken = authorization_matrix(self, org)
        assert not broken, "\n".join(broken)

    # --- API ------------------------------------------------------------------
    def test_api_delete_outside_scope_is_404(self, org):
        if not self.scoped:
            return  # every record of this type is visible to whoever has the right
        outside = self.make(org, org.manager2)
        client = Client(**auth(org.manager))
        response = client.delete(self.api_url(outside.pk))
        assert response.status_code in (403, 404), response.content
        assert self.model._default_manager.filter(pk=outside.pk).exists()

    def test_api_crud(self, org):
        user = getattr(org, self.allowed_user)
        client = Client(**auth(user))
        response = client.post(self.api_url(), json.dumps(self.api_payload(org)), content_type="application/json")
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        assert client.get(self.api_url(pk)).status_code == 200
        listing = client.get(self.api_url(), {"sort": "-id"})
        assert listing.status_code == 200
        assert pk in [row["id"] for row in listing.json()["results"]]
        response = client.patch(self.api_url(pk), json.dumps(self.update), content_type="application/json")
        assert response.status_code == 200, response.content
        field, value = next(iter(self.update.items()))
        obj = self.model._default_manager.get(pk=pk)
        assert str(getattr(obj, field + "_id", None) or getattr(obj, field)) == str(value) or \
            str(getattr(obj, field)) == str(value)
        assert LogEntry.objects.get_for_object(obj).filter(actor=user).exists(), "API changes name their actor"
        response = client.delete(self.api_url(pk))
        assert response.status_code in (204, 409, 422), response.content
        if self.rt.is_kehu_model:
            assert response.status_code == 204
            assert client.get(self.api_url(pk)).status_code == 404

    def test_api_bad_input_is_422_naming_the_field_and_writes_nothing(self, org):
        client = Client(**auth(getattr(org, self.allowed_user)))
        before = self.model._default_manager.count()
        payload = {**self.api_payload(org), **self.invalid}
        response = client.post(self.api_url(), json.dumps(payload), content_type="application/json")
        assert response.status_code == 422, response.content
        errors = response.json()["errors"]
        for field in self.invalid:
            assert field in errors, errors
        assert self.model._default_manager.count() == before
        obj = self.make(org, self.owner_in_scope(org))
        response = client.patch(self.api_url(obj.pk), json.dumps(self.invalid), content_type="application/json")
        assert response.status_code == 422
        fresh = self.model._default_manager.get(pk=obj.pk)
        for field in self.invalid:
            assert getattr(fresh, field) == getattr(obj, field)

    def test_api_permissions(self, org):
        obj = self.make(org, self.owner_in_scope(org))
        assert Client().get(self.api_url()).status_code == 401
        denied = Client(**auth(getattr(org, self.denied_user)))
        assert denied.get(self.api_url()).status_code == 403
        assert denied.get(self.api_url(obj.pk)).status_code == 403
        response = denied.post(self.api_url(), json.dumps(self.api_payload(org)), content_type="application/json")
        assert response.status_code == 403
        assert denied.delete(self.api_url(obj.pk)).status_code == 403
        assert self.model._default_manager.filter(pk=obj.pk).exists()
        if self.scoped:
            outside = self.make(org, org.manager2)
            mine = Client(**auth(org.manager))
            assert mine.get(self.api_url(outside.pk)).status_code == 404
            response = mine.patch(self.api_url(outside.pk), json.dumps(self.update), content_type="application/json")
            assert response.status_code == 404
            ids = [row["id"] for row in mine.get(self.api_url(), {"limit": 200}).json()["results"]]
            assert outside.pk not in ids and obj.pk in ids

    def test_api_list_rows_match_detail(self, org):
        """The list builds rows from `.values()`; each must equal the record's own endpoint."""
        obj = self.make(org, self.owner_in_scope(org))
        if self.rt.is_kehu_model:
            obj.set_tags(["乙 second", "甲 first", "a-tag"])
        client = Client(**auth(getattr(org, self.allowed_user)))
        rows = client.get(self.api_url(), {"limit": 200}).json()["results"]
        row = next(r for r in rows if r["id"] == obj.pk)
        assert row == client.get(self.api_url(obj.pk)).json()
        if self.rt.is_kehu_model:
            assert row["tags"] == sorted(["乙 second", "甲 first", "a-tag"])

    def test_api_list_query_count(self, org):
        owner = self.owner_in_scope(org)
        client = Client(**auth(getattr(org, self.allowed_user)))
        for _i in range(2):
            self.make(org, owner)
        client.get(self.api_url())
        fresh_caches()
        with CaptureQueriesContext(connection) as few:
            client.get(self.api_url())
        for _i in range(10):
            self.make(org, owner)
        fresh_caches()
        with CaptureQueriesContext(connection) as many:
            assert client.get(self.api_url()).status_code == 200
        assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


    # --- workflow (kehu/core/workflow.py): every declared transition, allowed and refused --------
    def transition_data(self, org, t) -> dict:
        """Valid input for transition `t` besides `to`: its required comment; record types whose
        transitions ask for fields override this."""
        return {"comment": "测试：原因说明"} if t.comment == "required" else {}

    def put_in_state(self, obj, state: str):
        """The test's setup: the record in `state`, written directly (not a transition)."""
        wf = self.rt.workflow
        self.model._base_manager.filter(pk=obj.pk).update(**{wf.model_field.attname: wf.model_field.to_python(state)})
        return self.model._base_manager.get(pk=obj.pk)

    def transition_url(self, obj, t):
        return f"{self.api_url(obj.pk)}/transitions/{t.name}"

    def _logs(self, obj):
        from django.contrib.contenttypes.models import ContentType

        from kehu.core.models import TransitionLog

        return TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(self.model),
                                            object_id=obj.pk)

    def test_workflow_walks_every_transition(self, org):
        """Each transition from each of its source states (API and UI in turn): the state moves, the
        version goes up, the log names who, from and to; the detail page offers it. From any other
        state: 409 naming the state, and nothing changed."""
        wf = self.rt.workflow
        if wf is None:
            return
        user = getattr(org, self.allowed_user)
        api, ui = Client(**auth(user)), self.client_for(user)
        taken = 0
        for t in wf.transitions:
            sample = self.make(org, self.owner_in_scope(org))
            states = [v for v, _label in wf.states(sample)]
            sources = [v for v in states if wf.matches(v, t.source)]
            assert sources, f"{t.name}: no state it can be taken from"
            for i, state in enumerate(sources):
                obj = self.put_in_state(self.make(org, self.owner_in_scope(org)), state)
                targets = wf.targets(t, obj)
                if not targets:
                    continue
                to = targets[-1][0]
                assert f'data-testid="transition-{t.name}' in ui.get(self.url("detail", obj.pk)).content.decode()
                data = {**self.transition_data(org, t), "to": to, "version": obj.version}
                if i % 2 == 0:
                    response = api.post(self.transition_url(obj, t), json.dumps(data), content_type="application/json")
                    assert response.status_code == 200, (t.name, state, response.content)
                    assert str(response.json()[wf.field]) == to
                else:
                    response = ui.post(self.url("transition", obj.pk, t.name), data)
                    assert response.status_code == 302, (t.name, state, response.content[:2000])
                fresh = self.model._base_manager.get(pk=obj.pk)
                assert wf.state(fresh) == to, (t.name, state)
                assert getattr(fresh, "version", 2) == getattr(obj, "version", 1) + 1
                log = self._logs(obj).latest("id")
                assert (log.transition, log.from_state, log.to_state, log.by_id) == (t.name, state, to, user.pk)
                taken += 1
            for state in [v for v in states if not wf.matches(v, t.source)][:3]:
                obj = self.put_in_state(self.make(org, self.owner_in_scope(org)), state)
                data = {**self.transition_data(org, t), "to": (wf.targets(t, obj) or [("", "")])[0][0]}
                response = api.post(self.transition_url(obj, t), json.dumps(data), content_type="application/json")
                assert response.status_code == 409, (t.name, state, response.content)
                assert response.json()["state"] == state
                fresh = self.model._base_manager.get(pk=obj.pk)
                assert wf.state(fresh) == state and getattr(fresh, "version", 0) == getattr(obj, "version", 0)
                assert not self._logs(obj).exists()
        assert taken, "no transition could be taken"

    def test_workflow_refuses_missing_input_and_missing_rights(self, org):
        """A transition without what it needs: 422 naming each missing field, nothing changed.
        Without its right: 403. The state is not a field of the edit form or the PATCH body."""
        wf = self.rt.workflow
        if wf is None:
            return
        user = getattr(org, self.allowed_user)
        api = Client(**auth(user))
        denied = Client(**auth(getattr(org, self.denied_user)))
        for t in wf.transitions:
            sample = self.make(org, self.owner_in_scope(org))
            source = next(v for v, _label in wf.states(sample) if wf.matches(v, t.source))
            obj = self.put_in_state(sample, source)
            targets = wf.targets(t, obj)
            if not targets:
                continue
            needed = list(t.required) + (["comment"] if t.comment == "required" else [])
            if len(targets) > 1:
                needed.append("to")
            if needed:
                response = api.post(self.transition_url(obj, t), json.dumps({}), content_type="application/json")
                assert response.status_code == 422, (t.name, response.content)
                assert set(needed) <= set(response.json()["errors"]), (t.name, response.json())
                fresh = self.model._base_manager.get(pk=obj.pk)
                assert wf.state(fresh) == source and not self._logs(obj).exists()
            response = denied.post(self.transition_url(obj, t), json.dumps({}), content_type="application/json")
            assert response.status_code == 403
        obj = self.make(org, self.owner_in_scope(org))
        form = self.rt.form(instance=obj, user=user)
        assert wf.field not in form.fields
        response = api.patch(self.api_url(obj.pk), json.dumps({wf.field: wf.state(obj)}),
                             content_type="application/json")
        assert response.status_code == 422 and wf.field in response.json()["errors"]
        listing = api.get(f"{self.api_url(obj.pk)}/transitions")
        assert listing.status_code == 200 and listing.json()["state"] == wf.state(obj)


class BusinessRecordTests(RecordTypeTests):
    """For KehuModel records: data scope, recycle bin and optimistic locking on top."""

    def test_ui_outside_scope_is_404(self, org):
        if not self.scoped:
            return  # every record of this type is visible to whoever has the right (a product)
        obj = self.make(org, org.manager2)  # another department
        client = self.client_for(org.manager)
        assert client.get(self.url("detail", obj.pk)).status_code == 404
        assert client.get(self.url("edit", obj.pk)).status_code == 404
        listing = client.get(self.url("list"), {"q": ""})
        assert obj not in listing.context["page"].items

    def test_api_stale_version(self, org):
        obj = self.make(org, self.owner_in_scope(org))
        client = Client(**auth(getattr(org, self.allowed_user)))
        stale = {**self.update, "version": obj.version - 1 if obj.version > 1 else obj.version + 5}
        response = client.patch(self.api_url(obj.pk), json.dumps(stale), content_type="application/json")
        assert response.status_code == 409
        response = client.patch(self.api_url(obj.pk), json.dumps(self.update), content_type="application/json",
                                HTTP_IF_MATCH=f'"{obj.version + 7}"')
        assert response.status_code == 412
        fresh = self.model._default_manager.get(pk=obj.pk)
        assert fresh.version == obj.version
        response = client.patch(self.api_url(obj.pk), json.dumps({**self.update, "version": obj.version}),
                                content_type="application/json")
        assert response.status_code == 200
        assert response.json()["version"] == obj.version + 1


    def test_attachments_stay_in_scope(self, org):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from kehu.core.models import Attachment

        obj = self.make(org, self.owner_in_scope(org))
        client = self.client_for(getattr(org, self.allowed_user))
        upload = SimpleUploadedFile("报价.txt", "第一版报价".encode(), content_type="text/plain")
        response = client.post(self.url("upload", obj.pk), {"file": upload})
        assert response.status_code == 302
        att = Attachment.objects.get(object_id=obj.pk, content_type__model=self.model._meta.model_name)
        assert "报价.txt" in client.get(self.url("attachments", obj.pk)).content.decode()
        assert client.get(f"/attachments/{att.pk}/").status_code == 200
        if not self.scoped:
            return
        outsider = self.client_for(org.manager2)
        assert outsider.get(f"/attachments/{att.pk}/").status_code == 404
        assert outsider.post(f"/attachments/{att.pk}/delete/").status_code == 404
        assert Attachment.objects.filter(pk=att.pk).exists()


AUTHZ_COUNTS = {"cells": 0, "broken": 0}
AUTHZ_USERS = ["admin", "supervisor", "manager", "manager2", "executive", "service", "nobody"]


def authorization_matrix(test, org) -> list[str]:
    """Every role × every endpoint of one record type, UI and API, against a record of the
    account manager's: the answer must be 403 without the right, 404 outside the data scope (as
    `RecordType.visible` defines it, the one place of scope) and success otherwise. Returns the
    broken cells; the counts are kept in AUTHZ_COUNTS for the issue's note."""
    rt = test.rt
    broken = []

    def check(user, cell, got, right, visible=True, ok=(200,)):
        expected = 403 if not right else (404 if not visible else None)
        good = got == expected if expected is not None else got in ok
        AUTHZ_COUNTS["cells"] += 1
        if not good:
            AUTHZ_COUNTS["broken"] += 1
            broken.append(f"{rt.key} {user} {cell}: {got}, expected {expected or ok}")

    for name in AUTHZ_USERS:
        user = getattr(org, name)
        obj = test.make(org, org.manager)
        has = {a: user.has_right(rt.module, a) for a in ("view", "create", "edit", "delete", "export")}
        seen = rt.visible(user).filter(pk=obj.pk).exists()
        ui, api = test.client_for(user), Client(**auth(user))
        check(name, "ui list", ui.get(test.url("list")).status_code, has["view"])
        check(name, "ui detail", ui.get(test.url("detail", obj.pk)).status_code, has["view"], seen)
        check(name, "ui history", ui.get(test.url("history", obj.pk)).status_code, has["view"], seen)
        check(name, "ui add", ui.get(test.url("add")).status_code, has["create"])
        check(name, "ui edit", ui.get(test.url("edit", obj.pk)).status_code, has["edit"], seen)
        check(name, "ui export", ui.get(test.url("list"), {"format": "csv"}).status_code, has["export"])
        check(name, "api list", api.get(test.api_url()).status_code, has["view"])
        check(name, "api get", api.get(test.api_url(obj.pk)).status_code, has["view"], seen)
        response = api.patch(test.api_url(obj.pk), json.dumps(test.update), content_type="application/json")
        check(name, "api patch", response.status_code, has["edit"], seen)
        if rt.workflow is not None:
            check(name, "api transitions", api.get(f"{test.api_url(obj.pk)}/transitions").status_code,
                  has["view"], seen)
        response = api.delete(test.api_url(obj.pk))
        check(name, "api delete", response.status_code, has["delete"], seen, ok=(204, 409, 422))
        other = test.make(org, org.manager)
        response = ui.post(test.url("delete", other.pk))
        check(name, "ui delete", response.status_code, has["delete"], seen, ok=(302,))
    return broken


class ReadOnlyRecordTests(BusinessRecordTests):
    """For a read-only record type (`read_only = True`: a ledger, a log): its read tests, that no
    write exists (no pages, 405 in the API, the record unchanged), and each declared action run
    through the API and the UI, refused without its right and without what it needs. The write
    tests of RecordTypeTests do not apply to it; they are replaced by
    `test_read_only_offers_no_write`."""

    test_ui_create = test_ui_create_bad_input_shows_field_error = test_ui_edit_logs_before_and_after = None
    test_ui_validate_single_field_htmx = test_ui_delete_and_restore = test_bulk_actions = None
    test_owner_change_needs_the_assign_right = test_authorization_matrix = test_api_delete_outside_scope_is_404 = None
    test_api_crud = test_api_bad_input_is_422_naming_the_field_and_writes_nothing = test_api_stale_version = None
    test_ui_detail_and_history = test_ui_no_right_is_403 = test_api_permissions = None
    test_attachments_stay_in_scope = test_ui_outside_scope_is_404 = None

    def form_data(self, org) -> dict:
        return {}

    def action_data(self, org, action) -> dict:
        """Valid input for `action`; record types whose actions ask for fields override this."""
        return {"comment": "测试：原因说明"} if action.comment == "required" else {}

    def test_read_only_offers_no_write(self, org):
        from django.urls import NoReverseMatch

        obj = self.make(org, self.owner_in_scope(org))
        user = getattr(org, self.allowed_user)
        client, api = self.client_for(user), Client(**auth(user))
        detail = client.get(self.url("detail", obj.pk))
        assert detail.status_code == 200
        assert 'data-testid="edit-record"' not in detail.content.decode()
        assert client.get(self.url("history", obj.pk)).status_code == 200
        for action, args in (("add", ()), ("edit", (obj.pk,)), ("delete", (obj.pk,))):
            try:
                self.url(action, *args)
            except NoReverseMatch:
                continue
            raise AssertionError(f"a read-only record type has a {action} page")
        assert api.post(self.api_url(), "{}", content_type="application/json").status_code == 405
        assert api.patch(self.api_url(obj.pk), "{}", content_type="application/json").status_code == 405
        assert api.delete(self.api_url(obj.pk)).status_code == 405
        response = client.post(self.url("bulk"), {"action": "delete", "pk": [obj.pk]})
        assert response.status_code in (403, 404), response.status_code
        assert self.model._default_manager.filter(pk=obj.pk).exists()
        denied = self.client_for(getattr(org, self.denied_user))
        assert denied.get(self.url("list")).status_code == 403
        assert denied.get(self.url("detail", obj.pk)).status_code == 403
        if self.scoped:
            outside = self.make(org, org.manager2)
            assert self.client_for(org.manager).get(self.url("detail", outside.pk)).status_code == 404
            assert Client(**auth(org.manager)).get(self.api_url(outside.pk)).status_code == 404

    def test_actions_run_and_refuse(self, org):
        user = getattr(org, self.allowed_user)
        api, ui = Client(**auth(user)), self.client_for(user)
        denied = Client(**auth(getattr(org, self.denied_user)))
        for i, action in enumerate(self.rt.actions):
            obj = self.make(org, self.owner_in_scope(org))
            url = f"{self.api_url(obj.pk)}/actions/{action.name}"
            needed = list(action.required) + (["comment"] if action.comment == "required" else [])
            if needed:
                response = api.post(url, "{}", content_type="application/json")
                assert response.status_code == 422 and set(needed) <= set(response.json()["errors"])
            assert denied.post(url, "{}", content_type="application/json").status_code == 403
            assert f'data-testid="transition-{action.name}"' in ui.get(self.url("detail", obj.pk)).content.decode()
            data = self.action_data(org, action)
            if i % 2 == 0:
                response = api.post(url, json.dumps(data), content_type="application/json")
                assert response.status_code == 200, response.content
            else:
                response = ui.post(self.url("action", obj.pk, action.name), data)
                assert response.status_code == 302, response.content[:1000]
            self.check_action(org, action, self.model._base_manager.get(pk=obj.pk), obj)

    def check_action(self, org, action, after, before):
        """What running `action` changed (record types assert their action's effect)."""
        raise NotImplementedError

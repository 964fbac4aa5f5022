"""Imports of customers (with a primary contact in the same row) and contacts (kehu/core/imports).
Registered from registrations.py. Rows are validated by CustomerForm / ContactForm; duplicates by
the customers' rules (services.find_duplicates_bulk: phone, e-mail, name); writes in bulk with
the numbers, search columns and owners that Customer.save / Contact.save give."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import phones
from kehu.core.forms import KehuModelForm
from kehu.core.imports import bulk
from kehu.core.imports.base import Importer, register, write_tags

from . import normalize
from .forms import ContactForm, CustomerForm
from .models import Contact, Customer


class PrimaryContactForm(KehuModelForm):
    """The contact columns of a customer row: ContactForm's fields but the customer (the row's)."""

    class Meta:
        model = Contact
        fields = [f for f in ContactForm.Meta.fields if f not in ("customer", "is_primary")]


def _join_name(first: str, last: str) -> str:
    if normalize.is_cjk(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _first_duplicate(dups):
    if not dups:
        return None
    from .services import describe_duplicate

    dup = sorted(dups, key=lambda d: not d.visible)[0]
    return (dup.customer.pk, describe_duplicate(dup), [str(r) for r in dup.reasons], dup.visible)


class CustomerImporter(Importer):
    key = "customer"
    form_class = CustomerForm
    child_prefix = "contact"
    child_form_class = PrimaryContactForm
    child_exclude = ("tags_text",)
    child_label = gettext_lazy("Primary contact")
    aliases = {"name": ["customer name", "company", "company name", "客户名称", "公司名称"],
               "contact_mobile": ["联系人手机", "手机", "手机号"], "tags_text": ["标签", "tags"]}
    batch_size = 1000

    def virtual_fields(self):
        return {"contact_first_name": "contact_name", "contact_last_name": "contact_name"}

    def apply_virtual(self, row, values):
        name = _join_name(values.get("contact_first_name", ""), values.get("contact_last_name", ""))
        if name:
            row.child["name"] = name

    def within_file_keys(self, row):
        c = row.form.instance if row.form is not None else None
        if c is None:
            return []
        keys = [("name", c.name)]
        keys += [("phone", p) for p in [c.phone] if p]
        keys += [("email", c.email.lower())] if c.email else []
        return keys

    def find_existing(self, rows, ctx):
        from .services import find_duplicates_bulk

        candidates = []
        for row in rows:
            c = row.form.instance
            phones, emails = [c.phone], [c.email]
            if row.child_form is not None:
                k = row.child_form.instance
                phones += [k.mobile, k.phone]
                emails.append(k.email)
            candidates.append({"name": c.name, "phones": phones, "emails": emails})
        queries = getattr(ctx, "duplicate_queries", None)
        if queries is None:  # compiled once per run
            from .services import duplicate_queries

            queries = ctx.duplicate_queries = duplicate_queries()
        for row, dups in zip(rows, find_duplicates_bulk(candidates, ctx.user, queries), strict=True):
            row.existing = _first_duplicate(dups)

    def write(self, creates, updates, ctx):
        customers, contacts = [], []
        for row in creates:
            customer = row.form.save(commit=False)
            contact = row.child_form.save(commit=False) if row.child_form is not None else None
            customers.append(customer)
            contacts.append(contact)
        Customer.numbering.fill_many(customers)
        for customer, contact in zip(customers, contacts, strict=True):
            rows = [(contact.name, contact.mobile, contact.phone, contact.email)] if contact else []
            customer.search_text = customer.build_search_text(contacts=rows)  # as Customer.save
            customer.name_key = normalize.name_key(customer.name)
        bulk.insert(Customer, customers)
        new_contacts = []
        for customer, contact in zip(customers, contacts, strict=True):
            if contact is not None:
                contact.customer_id = customer.pk
                contact.owner_id = customer.owner_id  # as Contact.save
                contact.is_primary = True
                contact.search_text = contact.build_search_text()
                new_contacts.append(contact)
        bulk.insert(Contact, new_contacts)
        write_tags(Customer, [(c.pk, row.tags) for c, row in zip(customers, creates, strict=True) if row.tags])
        return ([("main", [c.pk for c in customers]), ("customers.contact", [c.pk for c in new_contacts])],
                self.apply_updates(updates, ctx))


def resolve_among_customers(rows, ctx, field: str, queryset, match, ambiguous, missing) -> None:
    """Each row's `field` cell as one record of the row's customer (which `resolve_customers` found),
    among `queryset` (the records the user sees): one query per batch. `match(texts)` gives the
    condition finding the candidates and a function naming the cell texts a candidate answers to;
    `ambiguous(text)` / `missing(text)` the error when several or none of the customer's answer."""
    wanted = [(row, row.refs[field]) for row in rows if field in row.refs and row.data.get("customer")]
    found: dict = {}
    if wanted:
        texts = {text for _row, text in wanted}
        condition, answers_to = match(texts)
        customers = {int(row.data["customer"]) for row, _text in wanted}
        for obj in queryset.filter(customer_id__in=customers).filter(condition):
            for k in answers_to(obj):
                found.setdefault((obj.customer_id, k), []).append(obj)
    ctx.refs[field] = {obj.pk: obj for objs in found.values() for obj in objs}
    column = ctx.column_of.get(field, field)
    for row in rows:
        text = row.refs.get(field)
        if text is None or not row.data.get("customer"):
            continue  # the customer's own error says why
        matches = found.get((int(row.data["customer"]), text), [])
        if len(matches) == 1:
            row.data[field] = str(matches[0].pk)
        else:
            row.error(column, ambiguous(text) if matches else missing(text))


def resolve_contacts(rows, ctx) -> None:
    """The contact rows name (`contact`), by its name or mobile (as typed or normalised) among the
    contacts of the row's customer: orders, follow-ups, campaign members. Several of the customer's
    contacts of that name is an error asking for the mobile."""

    def match(texts):
        mobiles = {_as_mobile(text): text for text in texts}
        mobiles.pop("", None)
        return (Q(name__in=texts) | Q(mobile__in=texts | set(mobiles)),
                lambda c: {c.name, c.mobile, mobiles.get(c.mobile)} & texts)

    resolve_among_customers(
        rows, ctx, "contact", Contact.objects.visible_to(ctx.user), match,
        lambda text: _("Several contacts of this customer are named “%(name)s”: give the mobile.") % {"name": text},
        lambda text: _("The customer has no contact “%(name)s”.") % {"name": text})


def _as_mobile(text: str) -> str:
    """A cell's phone number as contacts keep it (E.164), or "" when it is none."""
    try:
        return phones.normalize_phone(text) if any(ch.isdigit() for ch in text) else ""
    except ValidationError:
        return ""


def resolve_customers(rows, ctx, *, field="customer", default=None) -> None:
    """The customers rows name in `field`, by number or name, among those the user sees: one query
    per batch (every importer of records that belong to a customer: contacts, opportunities,
    follow-ups). A name matching several customers is an error asking for the number; a row whose
    customer is not found gets `default` when there is one, else an error."""
    texts = {row.refs[field] for row in rows if field in row.refs}
    found: dict[str, list] = {}
    if texts:
        for c in Customer.objects.visible_to(ctx.user).filter(Q(number__in=texts) | Q(name__in=texts)):
            for k in {c.number, c.name} & texts:
                found.setdefault(k, []).append(c)
    refs = {c.pk: c for cs in found.values() for c in cs}
    if default is not None:
        refs[default.pk] = default
    ctx.refs[field] = refs
    column = ctx.column_of.get(field, field)
    for row in rows:
        text = row.refs.get(field)
        if text is None:
            continue
        matches = {c.pk: c for c in found.get(text, [])}
        if len(matches) > 1:
            row.error(column, _("Several customers are named “%(name)s”: give the customer number.") % {"name": text})
        elif not matches and default is not None:
            row.data[field] = str(default.pk)
        elif not matches:
            row.error(column, _("No customer “%(name)s” in your data scope.") % {"name": text})
        else:
            row.data[field] = str(next(iter(matches)))


class ContactImporter(Importer):
    key = "contact"
    form_class = ContactForm
    aliases = {"customer": ["客户", "客户名称", "公司", "公司名称", "customer name", "company", "account"],
               "tags_text": ["标签", "tags"]}

    def virtual_fields(self):
        # a vCard's further phones and e-mails go to the notes, its photo becomes an attachment
        return {"first_name": "name", "last_name": "name", "more_phones": "notes", "more_emails": "notes",
                "photo": "notes"}

    def virtual_label(self, name):
        return {"more_phones": _("Other phones (added to the notes)"),
                "more_emails": _("Other e-mails (added to the notes)"),
                "photo": _("Photo (kept as an attachment)")}.get(name, "")

    def apply_virtual(self, row, values):
        name = _join_name(values.get("first_name", ""), values.get("last_name", ""))
        if name:
            row.data["name"] = name
        extra = []
        if values.get("more_phones"):
            extra.append(_("Other phones: %(phones)s") % {"phones": values["more_phones"]})
        if values.get("more_emails"):
            extra.append(_("Other e-mails: %(emails)s") % {"emails": values["more_emails"]})
        if extra:
            row.data["notes"] = "\n".join([*([row.data["notes"]] if row.data.get("notes") else []), *extra])
            row.blank.discard("notes")
        if values.get("photo"):
            row.photo = values["photo"]

    # --- the customer of rows without a known one, chosen on the mapping screen -------------------------
    def options_template(self):
        return "customers/imports/contact_options.html"

    def options_context(self, job):
        from django import forms
        from django.urls import reverse_lazy

        from kehu.core.widgets import AutocompleteSelect

        class OptionsForm(forms.Form):
            default_customer = forms.ModelChoiceField(
                Customer.objects.visible_to(job.user), required=False, label=_("Customer"),
                widget=AutocompleteSelect(lookup_url=reverse_lazy("customers:customer_lookup"),
                                          attrs={"data-testid": "default-customer"}))

        return {"options_form": OptionsForm(initial={"default_customer": self.default_customer_id(job)}),
                "org_mapped": "customer" in job.mapping.values()}

    def save_options(self, job, data):
        value_map = dict(job.value_map or {})
        choice = (data.get("default_customer") or "").strip()
        if choice.isdigit() and Customer.objects.visible_to(job.user).filter(pk=int(choice)).exists():
            value_map["customer"] = {"*": int(choice)}
        else:
            value_map.pop("customer", None)
        job.value_map = value_map

    @staticmethod
    def default_customer_id(job) -> int | None:
        pk = ((job.value_map or {}).get("customer") or {}).get("*")
        return int(pk) if isinstance(pk, int) or (isinstance(pk, str) and pk.isdigit()) else None

    def provided_fields(self, job):
        return {"customer"} if self.default_customer_id(job) else set()

    def resolve_refs(self, rows, ctx):
        """The contacts' customers by number or name (a vCard's ORG), among those the user sees: one
        query. A row naming no customer, or one that is not found, gets the customer chosen on the
        mapping screen when there is one."""
        default = getattr(ctx, "default_customer", False)
        if default is False:  # read once per run
            pk = self.default_customer_id(ctx.job)
            default = ctx.default_customer = (Customer.objects.visible_to(ctx.user).filter(pk=pk).first()
                                              if pk else None)
        resolve_customers(rows, ctx, default=default)

    def prepare_data(self, row, data, ctx):
        default = getattr(ctx, "default_customer", None)
        if default is not None and not data.get("customer") and "customer" not in row.refs:
            data["customer"] = str(default.pk)

    def within_file_keys(self, row):
        c = row.form.instance if row.form is not None else None
        if c is None:
            return []
        return [("phone", p) for p in [c.mobile] if p] + ([("email", c.email.lower())] if c.email else [])

    def find_existing(self, rows, ctx):
        from django.db.models.functions import Lower

        mobiles = {r.form.instance.mobile for r in rows if r.form.instance.mobile}
        emails = {r.form.instance.email.lower() for r in rows if r.form.instance.email}
        if not mobiles and not emails:
            return
        condition = Q()
        if mobiles:
            condition |= Q(mobile__in=mobiles) & ~Q(mobile="")  # the partial contact_mobile_idx
        if emails:
            condition |= Q(email_key__in=emails)
        stored = list(Contact.objects.alias(email_key=Lower("email")).filter(condition).select_related("customer"))
        visible = set(Contact.objects.visible_to(ctx.user).filter(pk__in=[c.pk for c in stored])
                      .values_list("pk", flat=True))
        by_mobile = {c.mobile: c for c in stored if c.mobile}
        by_email = {c.email.lower(): c for c in stored if c.email}
        for row in rows:
            c = row.form.instance
            hit, reason = None, ""
            if c.mobile and c.mobile in by_mobile:
                hit, reason = by_mobile[c.mobile], _("same mobile")
            elif c.email and c.email.lower() in by_email:
                hit, reason = by_email[c.email.lower()], _("same e-mail")
            if hit is not None:
                shown = hit.pk in visible
                label = f"{hit.name} · {hit.customer.name}" if shown else _("A contact outside your data scope")
                row.existing = (hit.pk, label, [reason], shown)

    def write(self, creates, updates, ctx):
        contacts = []
        for row in creates:
            contact = row.form.save(commit=False)
            contact.owner_id = contact.customer.owner_id  # as Contact.save
            contact.search_text = contact.build_search_text()
            contacts.append(contact)
        bulk.insert(Contact, contacts)
        _attach_photos(contacts, creates, ctx)
        primary = [c for c in contacts if c.is_primary]
        if primary:  # one primary contact per customer, as Contact.save
            Contact.objects.filter(customer_id__in={c.customer_id for c in primary}, is_primary=True).exclude(
                pk__in=[c.pk for c in primary]).update(is_primary=False)
        write_tags(Contact, [(c.pk, row.tags) for c, row in zip(contacts, creates, strict=True) if row.tags])
        before = self.apply_updates(updates, ctx)
        refresh_customer_search({c.customer_id for c in contacts})
        return [("main", [c.pk for c in contacts])], before


def _attach_photos(contacts, rows, ctx) -> None:
    """A vCard's photo (written beside the upload by kehu/core/imports/vcard.py) as an attachment of
    the new contact."""
    from django.core.files.base import ContentFile

    from kehu.core.imports import files, vcard
    from kehu.core.services import add_attachment

    upload = files.path_of(ctx.job)
    for contact, row in zip(contacts, rows, strict=True):
        path = vcard.photo_path(upload, getattr(row, "photo", ""))
        if path is None:
            continue
        data = path.read_bytes()
        name = f"{contact.name[:60]}{path.suffix}"
        try:
            add_attachment(contact, ContentFile(data, name=name), ctx.user)
        except ValidationError:  # a photo type or size the site does not accept: the contact without it
            continue


def refresh_customer_search(customer_ids) -> None:
    """The customers' search column holds their contacts: rebuilt for a batch in two queries."""
    if not customer_ids:
        return
    rows: dict[int, list] = {pk: [] for pk in customer_ids}
    for cid, name, mobile, phone, email in Contact.objects.filter(customer_id__in=customer_ids).values_list(
            "customer_id", "name", "mobile", "phone", "email"):
        rows[cid].append((name, mobile, phone, email))
    customers = list(Customer.all_objects.filter(pk__in=customer_ids))
    for c in customers:
        c.search_text = c.build_search_text(contacts=rows[c.pk])
    Customer.all_objects.bulk_update(customers, ["search_text"])


register(CustomerImporter())
register(ContactImporter())

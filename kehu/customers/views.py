from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.authcache import pickable_users
from kehu.accounts.models import User
from kehu.core import timeline
from kehu.core.registry import registry
from kehu.core.views import (
    BulkActionView,
    RecordDetailView,
    RecordEditView,
    RecordListView,
    local_next,
    require,
)

from . import services
from .forms import CustomerForm
from .models import Contact, Customer


def customer_type():
    return registry.get("customer")


class CustomerListView(RecordListView):
    """Customers, with tabs: mine / all I may see / the public pool."""

    def owned_tab(self):
        # "all" and "mine" keep owned customers: the scope leaves out the public pool's branch
        return "pool" not in self.request.GET and (self.request.GET.get("tab") or "all") != "pool"

    def filtered_queryset(self):
        self.tab = self.request.GET.get("tab") or "all"
        if self.tab == "pool":  # the public pool's list needs the pool right
            services.require_pool(self.request.user)
        qs = super().filtered_queryset()
        if "pool" not in self.request.GET:
            if self.tab == "pool":
                qs = qs.filter(owner__isnull=True)
            elif self.tab == "mine":
                qs = qs.filter(owner=self.request.user)
            else:
                qs = qs.filter(owner__isnull=False)
        return qs

    def extra_context(self):
        return {
            "tab": self.tab,
            "tabs": [("all", _("Customers")), ("mine", _("My customers"))]
            + ([("pool", _("Public pool"))] if services.can_use_pool(self.request.user) else []),
            "users": pickable_users(),
            "can_pool": services.can_use_pool(self.request.user),
            "claims_left": max(0, services.settings.KEHU_POOL_CLAIM_LIMIT - services.claims_today(self.request.user))
            if self.tab == "pool" else None,
        }


class CustomerBulkView(BulkActionView):
    """The handlers of CustomerType.bulk_actions."""

    def bulk_transfer(self, objs, data):
        owner = User.objects.filter(pk=data.get("value") or 0, is_active=True).first()
        if owner is None:
            raise ValidationError(_("Choose the user who takes over the customers."))
        services.transfer_customers(objs, owner, self.request.user)

    def bulk_release(self, objs, data):
        for obj in objs:
            if obj.owner_id is not None:
                services.release(obj, self.request.user, data.get("reason", ""))

    def bulk_claim(self, objs, data):
        for obj in objs:
            services.claim(obj, self.request.user)


class CustomerEditView(RecordEditView):
    template_name = "customers/customer_form.html"
    duplicates: list = []

    def save(self, form):
        try:
            return super().save(form)
        except services.DuplicateCustomer as exc:  # listed above the form, with the "Save anyway" box
            self.duplicates = exc.duplicates
            raise

    def render(self, form, instance, **extra):
        extra.setdefault("duplicates", self.duplicates)
        return super().render(form, instance, **extra)


class CustomerDetailView(RecordDetailView):
    def extra_context(self, obj):
        user = self.request.user
        sees_contacts = user.has_right("contact", "view")
        return {
            "extra_tabs": ([("contacts", _("Contacts"))] if sees_contacts else []) + [("timeline", _("Timeline"))],
            "header_actions": "customers/partials/header_actions.html",
            "title_badges": "customers/partials/title_badges.html",
            "contacts": Contact.objects.visible_to(user).filter(customer=obj).order_by("-is_primary", "id")
            if sees_contacts else Contact.objects.none(),
            "can_contact": {a: user.has_right("contact", a) for a in ("view", "create", "edit")},
            "quick": {key: key in registry.keys() and user.has_right(key, "create")
                      for key in ("followup", "task", "opportunity")},
            "users": pickable_users() if user.has_right("customer", "assign")
            else [],
            "can_pool": services.can_use_pool(user),
        }


@login_required
def timeline_view(request, pk):
    if not request.user.has_right("customer", "view"):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    # stable pages: (time, source, id) of the last event shown (kehu/core/timeline.py)
    result = timeline.page(customer, request.user, timeline.Cursor.decode(request.GET.get("cursor")), limit=20)
    return render(request, "customers/partials/timeline.html", {
        "object": customer, "events": result.events,
        "next_cursor": result.next_cursor.encode() if result.next_cursor else None})


@login_required
def duplicates_view(request):
    """HTMX: possible duplicates while the user types name / phone / e-mail."""
    if not request.user.has_right("customer", "view"):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    pk = request.GET.get("pk") or data.get("pk")
    text = {key: data.get(key, "").replace("\x00", "") for key in ("name", "phone", "email")}  # PostgreSQL cannot take NUL
    dups = services.find_duplicates(
        **text, exclude_pk=int(pk) if pk and str(pk).isdigit() else None, user=request.user,
    )
    return render(request, "customers/partials/duplicates.html", {"duplicates": dups})


@login_required
def lookup_view(request):
    """HTMX autocomplete: <option>s of visible customers matching ?q= (or ?customer-search=)."""
    if not request.user.has_right("customer", "view"):
        raise PermissionDenied
    term = next((v for k, v in request.GET.items() if k.endswith("search") or k == "q"), "")
    qs = Customer.objects.visible_to(request.user)
    fs = customer_type().filterset({"q": term}, queryset=qs, user=request.user)
    rows = fs.qs.order_by("-id")[:20] if term.strip() else qs.order_by("-updated_at", "-id")[:20]
    return render(request, "core/partials/options.html", {"rows": rows})


@login_required
@require_POST
def claim_view(request, pk):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    try:
        services.claim(customer, request.user)
        messages.success(request, _("“%(name)s” is now your customer.") % {"name": customer.name})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("customers:customer_detail", args=[pk]))


@login_required
@require_POST
def release_view(request, pk):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    try:
        services.release(customer, request.user, request.POST.get("reason", ""))
        messages.success(request, _("“%(name)s” was returned to the public pool.") % {"name": customer.name})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("customers:customer_detail", args=[pk]))


@login_required
@require_POST
def transfer_view(request, pk):
    if not request.user.has_right("customer", "assign"):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    owner = User.objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
    try:
        services.transfer_customers([customer], owner, request.user)
        messages.success(request, _("“%(name)s” now belongs to %(owner)s.") % {"name": customer.name, "owner": owner})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("customers:customer_detail", args=[pk]))


@login_required
def merge_view(request, pk):
    """Merge another customer into this one (the one kept)."""
    if not (request.user.has_right("customer", "edit") and request.user.has_right("customer", "delete")):
        raise PermissionDenied
    visible = Customer.objects.visible_to(request.user)
    keep = get_object_or_404(visible, pk=pk)
    other = None
    other_id = request.POST.get("other") or request.GET.get("other")
    if other_id:
        other = get_object_or_404(visible, pk=other_id)
    if request.method == "POST" and other is not None:
        try:
            services.merge_customers(keep, other, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("“%(other)s” was merged into “%(keep)s”.") % {
                "other": other.name, "keep": keep.name})
            return HttpResponseRedirect(reverse("customers:customer_detail", args=[keep.pk]))
    candidates = services.find_duplicates(name=keep.name, phone=keep.phone, email=keep.email, exclude_pk=keep.pk,
                                          user=request.user)
    return render(request, "customers/merge.html", {
        "object": keep, "other": other, "candidates": [d for d in candidates if d.visible],
        "rt": customer_type()})


# --- data quality 数据校验 (kehu/customers/quality.py) ------------------------------------------------

GROUPS_PER_PAGE = 20


def _require_quality(user):
    if not (user.has_right("quality", "view") and user.has_right("customer", "view")):
        raise PermissionDenied


def _may_merge(user) -> bool:
    return user.has_right("customer", "edit") and user.has_right("customer", "delete")


@login_required
def quality_view(request):
    """The data-quality page: the last scan's duplicate groups, invalid values and missing fields,
    in the user's data scope."""
    from . import quality
    from .models import QualityIssue, QualityScan

    _require_quality(request.user)
    scan = quality.last_scan()
    running = QualityScan.objects.filter(status=QualityScan.Status.RUNNING).order_by("-id").first()
    failed = QualityScan.objects.filter(status=QualityScan.Status.FAILED).order_by("-id").first()
    if failed is not None and scan is not None and failed.pk < scan.pk:
        failed = None
    if request.htmx and request.GET.get("part") == "status":
        response = render(request, "customers/quality/status.html", {"running": running, "scan": scan})
        if running is None:
            response["HX-Refresh"] = "true"
        return response
    tabs = [(k, label) for k, label in QualityIssue.Kind.choices if k in quality.DUPLICATE_KINDS]
    tabs += [("invalid", _("Invalid phones and e-mails")), ("missing", _("Missing fields"))]
    tab = request.GET.get("tab") if request.GET.get("tab") in dict(tabs) else tabs[0][0]
    ctx = {"scan": scan, "running": running, "failed": failed, "tabs": tabs, "tab": tab,
           "summary": quality.summary(scan, request.user), "may_merge": _may_merge(request.user),
           "kinds": dict(QualityIssue.Kind.choices)}
    if scan is not None:
        if tab in quality.DUPLICATE_KINDS:
            try:
                page = max(1, int(request.GET.get("page") or 1))
            except ValueError:
                page = 1
            groups = quality.groups(scan, request.user, tab, offset=(page - 1) * GROUPS_PER_PAGE,
                                    limit=GROUPS_PER_PAGE)
            total = ctx["summary"]["duplicates"][tab]["groups"]
            ctx.update(groups=groups, page=page, has_next=page * GROUPS_PER_PAGE < total,
                       first_number=(page - 1) * GROUPS_PER_PAGE + 1)
        elif tab == "invalid":
            ctx["invalid"] = [(kind, ctx["kinds"][kind], quality.invalid_rows(scan, request.user, kind))
                              for kind in quality.INVALID_KINDS]
        else:
            n = max(1, ctx["summary"]["customers"])
            ctx["missing"] = [{"key": key, "label": label, "required": required,
                               "count": ctx["summary"]["missing"][key],
                               "percent": round(ctx["summary"]["missing"][key] * 100 / n)}
                              for key, label, required in quality.missing_fields()]
    return render(request, "customers/quality/page.html", ctx)


@login_required
@require_POST
def quality_scan_view(request):
    from . import quality

    _require_quality(request.user)
    if quality.start_scan(request.user) is None:
        messages.info(request, _("A scan is already running."))
    else:
        messages.success(request, _("The scan has started; this page shows its result when it is done."))
    return HttpResponseRedirect(reverse("customers:quality"))


@login_required
@require_POST
def quality_merge_view(request):
    """Merge one duplicate group: every other customer of it into the one chosen to be kept."""
    from . import quality

    _require_quality(request.user)
    if not _may_merge(request.user):
        raise PermissionDenied
    visible = Customer.objects.visible_to(request.user)
    keep = get_object_or_404(visible, pk=request.POST.get("keep") or 0)
    ids = {int(p) for p in request.POST.getlist("pk") if p.isdigit()} - {keep.pk}
    others = list(visible.filter(pk__in=ids).order_by("pk"))
    back = local_next(request, reverse("customers:quality"))
    if not others:
        messages.warning(request, _("Choose the customers to merge."))
        return HttpResponseRedirect(back)
    try:
        merged = quality.merge_group(keep, others, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(n)s customers were merged into “%(keep)s”.") % {"n": merged, "keep": keep.name})
    return HttpResponseRedirect(back)


@login_required
@require_POST
def quality_dismiss_view(request):
    """"Not duplicates": one group of the last scan leaves the page and the next scans (while no other
    customer joins it)."""
    from . import quality

    _require_quality(request.user)
    back = local_next(request, reverse("customers:quality"))
    scan = quality.last_scan()
    ids = {int(p) for p in request.POST.getlist("pk") if p.isdigit()}
    customers = list(Customer.objects.visible_to(request.user).filter(pk__in=ids))
    if scan is None or quality.dismiss_group(scan, request.POST.get("kind", ""), request.POST.get("key", ""),
                                             customers, request.user) is None:
        messages.warning(request, _("This group is no longer among the duplicates you see."))
    else:
        messages.success(request, _("The group is marked as not duplicates; a scan shows it again only if "
                                    "another customer joins it."))
    return HttpResponseRedirect(back)


# --- vCard 名片 (kehu/customers/vcard.py) ---------------------------------------------------------

def _attachment_header(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=utf-8''{quote(filename)}"


def vcard_response(contacts, filename: str, *, stream: bool = False):
    """A .vcf of the contacts (vCard 3.0, UTF-8); `stream` for a long list."""
    from kehu.core.models import tags_by_id

    from . import vcard

    def chunks():
        batch = []
        for contact in contacts:
            batch.append(contact)
            if len(batch) == 500:
                yield from _cards(batch)
                batch = []
        yield from _cards(batch)

    def _cards(batch):
        tags = tags_by_id(Contact, [c.pk for c in batch], names=True) if batch else {}
        yield from vcard.vcards(batch, tags)

    response_class = StreamingHttpResponse if stream else HttpResponse
    body = chunks() if stream else "".join(chunks())
    response = response_class(body, content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = _attachment_header(filename)
    return response


def _visible_contact(request, pk) -> Contact:
    require(request.user, registry.get("contact"), "view")
    return get_object_or_404(Contact.objects.visible_to(request.user).select_related("customer"), pk=pk)


@login_required
def contact_vcard_view(request, pk):
    """The contact's card as a .vcf (vCard 3.0, UTF-8)."""
    from . import vcard

    contact = _visible_contact(request, pk)
    return vcard_response([contact], vcard.filename(contact, "vcf"))


@login_required
def contact_qr_view(request, pk):
    """The contact's card as a QR code (PNG): shown on the contact's page, or downloaded (?download=1)."""
    from . import vcard

    contact = _visible_contact(request, pk)
    response = HttpResponse(vcard.qr_png(contact), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    if request.GET.get("download"):
        response["Content-Disposition"] = _attachment_header(vcard.filename(contact, "png"))
    return response


class ContactDetailView(RecordDetailView):
    def extra_context(self, obj):
        return {"header_actions": "customers/partials/contact_header_actions.html"}


class ContactListView(RecordListView):
    """The contact list; `?format=vcf` downloads the filtered list's cards (the export right)."""

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "vcf":
            require(request.user, self.rt, "export")
            qs = self.filtered_queryset().select_related("customer").order_by("id")
            return vcard_response(qs.iterator(chunk_size=500), f"{self.rt.label_plural}.vcf", stream=True)
        return super().get(request, *args, **kwargs)

    def extra_context(self):
        return {"extra_exports": [("vcf", _("vCard (.vcf)"))]}


class ContactBulkView(BulkActionView):
    def bulk_vcard(self, objs, data):
        ids = [o.pk for o in objs]
        contacts = Contact.objects.filter(pk__in=ids).select_related("customer").order_by("id")
        return vcard_response(list(contacts), f"{self.rt.label_plural}.vcf")


__all__ = ["CustomerForm"]

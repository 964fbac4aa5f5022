"""Import pages: upload -> mapping with a preview -> dry-run report -> import with progress ->
result, and the import history with undo. A job is seen by its user (and by administrators in
the history); anyone else gets a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import base, engine, files, jobs, readers
from .models import ImportJob
from .presets import PRESET_LABELS


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"),
                           help_text=gettext_lazy("Excel (.xlsx, .xls), CSV / text (.csv, .txt) in any encoding, or vCard (.vcf) from a phone or a mail client."))
    preset = forms.ChoiceField(label=gettext_lazy("Exported from"), required=False,
                               choices=[("", gettext_lazy("Detect from the column names"))]
                               + [(k, v) for k, v in PRESET_LABELS.items()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx,.xls,.csv,.txt,.tsv,.vcf"})
        self.fields["preset"].widget.attrs["class"] = "form-select"


def _rt(key):
    from kehu.core.registry import registry

    try:
        return registry.get(key)
    except KeyError:
        raise Http404 from None


def _visible_jobs(user):
    qs = ImportJob.objects.select_related("user", "undone_by")
    if user.is_superuser or user.has_right("dictitem", "create"):
        return qs
    return qs.filter(user=user)


def _own(request, pk) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("user"), pk=pk, user=request.user)


@login_required
def import_new(request):
    key = request.GET.get("type") or request.POST.get("type") or ""
    if key not in base.all_importers():
        raise Http404
    rt = _rt(key)
    if not jobs.may_import(request.user, key):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > files.MAX_UPLOAD_MB * 1024 * 1024:
            form.add_error("file", _("The file is larger than %(mb)s MB.") % {"mb": files.MAX_UPLOAD_MB})
        else:
            try:
                job = jobs.create(request.user, key, upload.name, upload=upload, preset=form.cleaned_data["preset"])
            except ValidationError as exc:
                for message in exc.message_dict.get("file", exc.messages):
                    form.add_error("file", message)
            else:
                return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))
    return render(request, "core/imports/new.html", {"form": form, "rt": rt, "key": key})


def _mapping_context(job: ImportJob) -> dict:
    importer = base.get(job.record_type)
    fields = importer.fields()
    choices = [(f.name, f.label, f.required and not f.target) for f in fields]
    for name, target in importer.virtual_fields().items():
        label = _("first name") if "first" in name else _("last name")
        parent = next((f.label for f in fields if f.name == target), target)
        choices.append((name, importer.virtual_label(name) or f"{parent} ({label})", False))
    # the child's fields (an order line's, a primary contact's) under its name: a narrow select
    # shows "Quantity", not "Order line · …"
    targets = {f.name: f.target for f in fields}
    child = [(n, str(label).split(" · ", 1)[-1], r) for n, label, r in choices if targets.get(n)]
    own = [c for c in choices if not targets.get(c[0])]
    choice_groups = [("", own)] + ([(str(importer.child_label), child)] if child else [])
    table = engine.table_of(job)
    try:
        sample = readers.preview(table, 5)
    except Exception:  # a file that cannot be read any more
        sample = []
    columns = []
    for i, header in enumerate(job.headers):
        columns.append({"index": i, "header": header or _("(column %(n)s)") % {"n": i + 1},
                        "field": job.mapping.get(str(i), ""),
                        "samples": [row[i] for _line, row in sample if i < len(row) and row[i]][:3]})
    return {"columns": columns, "choices": choices, "choice_groups": choice_groups, "preview": sample, "missing": jobs.missing_required(job),
            "options_template": importer.options_template(), **importer.options_context(job)}


@login_required
def import_detail(request, pk):
    job = jobs.live(get_object_or_404(_visible_jobs(request.user), pk=pk))
    rt = _rt(job.record_type)
    ctx = {"job": job, "rt": rt, "mine": job.user_id == request.user.pk}
    if request.htmx and request.GET.get("part") == "progress":
        response = render(request, "core/imports/progress.html", ctx)
        if not job.is_active:  # finished: the whole page shows the report or the result
            response["HX-Refresh"] = "true"
        return response
    if job.status == ImportJob.Status.NEW and ctx["mine"]:
        ctx.update(_mapping_context(job))
        ctx["duplicate_choices"] = ImportJob.Duplicates.choices
        ctx["mode_choices"] = ImportJob.Mode.choices
        return render(request, "core/imports/mapping.html", ctx)
    if job.status == ImportJob.Status.CHECKED and ctx["mine"]:
        ctx["unknown"] = _unknown_context(job)
        ctx["may_add_values"] = request.user.has_right("dictitem", "create")
        ctx["duplicate_choices"] = ImportJob.Duplicates.choices
        ctx["mode_choices"] = ImportJob.Mode.choices
    ctx["may_undo"] = job.may_undo and jobs.may_undo(request.user, job)
    return render(request, "core/imports/detail.html", ctx)


def _unknown_context(job: ImportJob) -> list[dict]:
    from kehu.core.models import DictItem

    importer = base.get(job.record_type)
    fields = {f.name: f for f in importer.fields()}
    out = []
    for name, values in (job.unknown_values or {}).items():
        f = fields.get(name)
        if f is None:
            continue
        options = list(DictItem.objects.filter(kind=f.dict_kind, active=True).order_by("order", "id"))
        out.append({"field": name, "label": f.label, "column": _column_of(job, name),
                    "values": [{"value": v, "index": i} for i, v in enumerate(values)], "options": options})
    return out


def _column_of(job, name):
    for index, target in job.mapping.items():
        if target == name and int(index) < len(job.headers):
            return job.headers[int(index)]
    return name


@login_required
@require_POST
def import_map(request, pk):
    """Save the mapping and the options, then start the dry run."""
    job = _own(request, pk)
    if job.status not in (ImportJob.Status.NEW, ImportJob.Status.CHECKED):
        return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))
    importer = base.get(job.record_type)
    allowed = {f.name for f in importer.fields()} | set(importer.virtual_fields())
    mapping, used = {}, set()
    for i in range(len(job.headers)):
        name = request.POST.get(f"col_{i}", "")
        if name in allowed and name not in used:
            mapping[str(i)] = name
            used.add(name)
    job.mapping = mapping
    importer.save_options(job, request.POST)
    _options(request, job)
    job.status = ImportJob.Status.NEW
    job.save()
    if request.POST.get("remember"):
        jobs.save_mapping(job)
    return _check(request, job)


def _options(request, job):
    if request.POST.get("duplicates") in ImportJob.Duplicates.values:
        job.duplicates = request.POST["duplicates"]
    if request.POST.get("mode") in ImportJob.Mode.values:
        job.mode = request.POST["mode"]


def _check(request, job):
    try:
        jobs.start(job, dry_run=True)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))


@login_required
@require_POST
def import_values(request, pk):
    """The choices for values not in the dictionary (map to a value, add, reject), then check again."""
    job = _own(request, pk)
    if job.status != ImportJob.Status.CHECKED:
        return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))
    from .coerce import key

    admin = request.user.has_right("dictitem", "create")
    value_map = dict(job.value_map or {})
    for item in _unknown_context(job):
        choices = value_map.setdefault(item["field"], {})
        valid = {str(o.pk) for o in item["options"]}
        for v in item["values"]:
            choice = request.POST.get(f"v_{item['field']}_{v['index']}", "")
            if choice in valid:
                choices[key(v["value"])] = int(choice)
            elif choice == "new" and admin:
                choices[key(v["value"])] = "new"
            elif choice == "reject":
                choices[key(v["value"])] = "reject"
    job.value_map = value_map
    job.save(update_fields=["value_map"])
    jobs.save_mapping(job)
    return _check(request, job)


@login_required
@require_POST
def import_remap(request, pk):
    job = _own(request, pk)
    if job.status == ImportJob.Status.CHECKED:
        job.status = ImportJob.Status.NEW
        job.save(update_fields=["status"])
    return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))


@login_required
@require_POST
def import_run(request, pk):
    job = _own(request, pk)
    if not jobs.may_import(request.user, job.record_type):
        raise PermissionDenied
    _options(request, job)
    job.save(update_fields=["duplicates", "mode"])
    try:
        jobs.start(job, dry_run=False)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))


@login_required
@require_POST
def import_cancel(request, pk):
    job = _own(request, pk)
    if jobs.cancel(job):
        messages.info(request, _("The import was cancelled."))
    return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))


@login_required
@require_POST
def import_undo(request, pk):
    job = get_object_or_404(_visible_jobs(request.user), pk=pk)
    if not jobs.may_undo(request.user, job):
        raise Http404
    try:
        result = jobs.undo(job, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        message = _("The import was undone: %(removed)s records removed, %(restored)s restored.") % result
        if result["kept"]:
            message += " " + _("%(kept)s records changed since the import were left as they are.") % result
        messages.success(request, message)
    return HttpResponseRedirect(reverse("core:import_detail", args=[job.pk]))


@login_required
def import_errors(request, pk):
    job = get_object_or_404(_visible_jobs(request.user), pk=pk)
    if not job.errors_file:
        raise Http404
    path = files.imports_dir() / job.errors_file
    if not path.exists():
        raise Http404
    ext = path.suffix
    stem = job.filename.rsplit(".", 1)[0]
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{stem}-{_('errors')}{ext}")  # noqa: SIM115


@login_required
def import_history(request):
    qs = _visible_jobs(request.user).exclude(status=ImportJob.Status.NEW)
    if request.GET.get("type"):
        qs = qs.filter(record_type=request.GET["type"])
    items = [jobs.live(j) for j in qs.order_by("-id")[:100]]
    from kehu.core.registry import registry

    for job in items:
        try:
            job.type_label = registry.get(job.record_type).label_plural
        except KeyError:
            job.type_label = job.record_type
        job.undoable = job.may_undo and jobs.may_undo(request.user, job)
    importable = [registry.get(k) for k in base.all_importers() if jobs.may_import(request.user, k)]
    polling = any(j.is_active for j in items)
    return render(request, "core/imports/history.html", {"jobs": items, "importable": importable,
                                                         "polling": polling})


urlpatterns = [
    path("imports/", import_history, name="import_history"),
    path("imports/new/", import_new, name="import_new"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/map/", import_map, name="import_map"),
    path("imports/<int:pk>/values/", import_values, name="import_values"),
    path("imports/<int:pk>/remap/", import_remap, name="import_remap"),
    path("imports/<int:pk>/run/", import_run, name="import_run"),
    path("imports/<int:pk>/cancel/", import_cancel, name="import_cancel"),
    path("imports/<int:pk>/undo/", import_undo, name="import_undo"),
    path("imports/<int:pk>/errors/", import_errors, name="import_errors"),
]


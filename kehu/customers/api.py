"""Customer-specific API endpoints added to the generic CRUD router."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Schema

from kehu.accounts.models import User
from kehu.core.api_input import StrictIn

from . import services
from .models import Customer


class TransferIn(StrictIn):
    ids: list[int]
    owner: int


class MergeIn(StrictIn):
    other: int


class DuplicateOut(Schema):
    """A possible duplicate. One outside the caller's data scope shows only that it exists and who
    owns it (enough to avoid a clash, 撞单): id, number and name are null, `visible` is false."""

    visible: bool
    id: int | None
    number: str | None
    name: str | None
    owner: str | None
    reasons: list[str]


class CountOut(Schema):
    count: int


def extend(router, Out, rt):
    from kehu.core.api import get_visible, require, respond, serialize

    @router.post("/{int:pk}/claim", response=Out, operation_id="customer_claim", summary="Claim from the public pool")
    def claim(request, pk: int):
        require(request, rt, "edit")
        customer = get_visible(request, rt, pk)
        services.claim(customer, request.auth)
        return respond(request, serialize(rt, rt.visible(request.auth).get(pk=pk)))

    @router.post("/{int:pk}/release", response=Out, operation_id="customer_release",
                 summary="Return to the public pool")
    def release(request, pk: int):
        require(request, rt, "edit")
        customer = get_visible(request, rt, pk)
        services.release(customer, request.auth)
        return respond(request, serialize(rt, rt.visible(request.auth).get(pk=pk)))

    @router.post("/transfer", response=CountOut, operation_id="customer_transfer",
                 summary="Transfer customers to another owner")
    def transfer(request, payload: TransferIn):
        require(request, rt, "assign")
        owner = User.objects.filter(pk=payload.owner, is_active=True).first()
        if owner is None:
            raise ValidationError({"owner": ["Unknown or inactive user."]})
        customers = list(rt.visible(request.auth).filter(pk__in=payload.ids))
        if len(customers) != len(set(payload.ids)):
            raise Http404
        return {"count": services.transfer_customers(customers, owner, request.auth)}

    @router.post("/{int:pk}/merge", response=Out, operation_id="customer_merge",
                 summary="Merge another customer into this one")
    def merge(request, pk: int, payload: MergeIn):
        require(request, rt, "edit")
        if not request.auth.has_right("customer", "delete"):
            raise PermissionDenied("No right customer.delete.")
        keep = get_visible(request, rt, pk)
        other = get_visible(request, rt, payload.other)
        services.merge_customers(keep, other, request.auth)
        return respond(request, serialize(rt, rt.visible(request.auth).get(pk=pk)))

    @router.get("/duplicates", response=list[DuplicateOut], operation_id="customer_duplicates",
                summary="Possible duplicates of a name / phone / e-mail")
    def duplicates(request, name: str = "", phone: str = "", email: str = ""):
        require(request, rt, "view")
        dups = services.find_duplicates(name=name, phone=phone, email=email, user=request.auth)
        return [d.as_json() for d in dups]


__all__ = ["extend", "Customer"]

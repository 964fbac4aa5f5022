"""The header search (`/search/?q=`): one card per search provider the apps declare
(kehu.core.registries.search_provider) and the user holds the right for."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import registries


@login_required
def search(request):
    q = (request.GET.get("q") or "").strip()
    blocks = [{"provider": p, "template": p.template, "rows": p.results(request.user, q) if q else []}
              for p in registries.search_providers_for(request.user)]
    return render(request, "core/search.html", {"q": q, "blocks": blocks})

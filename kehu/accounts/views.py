import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.views import RecordDetailView

from .forms import KehuPasswordChangeForm, LoginForm
from .models import ApiToken, User


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = KehuPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        User.objects.filter(pk=user.pk).update(must_change_password=False, password_changed_at=timezone.now())
        messages.success(self.request, _("Your password was changed."))
        return response


@require_POST
def set_language(request):
    lang = request.POST.get("language", "")
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    if lang and check_for_language(lang):
        if request.user.is_authenticated:
            User.objects.filter(pk=request.user.pk).update(language=lang)
        request.session["kehu_language"] = lang
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
def profile(request):
    new_key = request.session.pop("kehu_new_token", None)
    tokens = request.user.api_tokens.filter(revoked_at__isnull=True)
    return render(request, "accounts/profile.html", {"tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_create(request):
    name = (request.POST.get("name") or "script").strip()[:100]
    _token, key = ApiToken.issue(request.user, name=name)
    request.session["kehu_new_token"] = key
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")


class UserDetailView(RecordDetailView):
    def extra_context(self, obj):
        return {"roles": obj.roles.all(), "temp_password": self.request.session.pop("kehu_temp_password", None)}


@login_required
@require_POST
def reset_password(request, pk):
    """Administrator reset: a one-time password the user must change at next login."""
    if not request.user.has_right("user", "edit"):
        raise PermissionDenied
    user = get_object_or_404(User, pk=pk)
    temp = secrets.token_urlsafe(6) + "#7a"
    user.set_password(temp)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    request.session["kehu_temp_password"] = temp
    messages.success(request, _("Password reset. Give the user the one-time password below."))
    return HttpResponseRedirect(reverse("accounts:user_detail", args=[pk]))

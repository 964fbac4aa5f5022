from django.contrib.auth import views as auth_views
from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/language/", views.set_language, name="set_language"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/", views.token_create, name="token_create"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("admin/users/<int:pk>/reset-password/", views.reset_password, name="user_reset_password"),
]
for key, extra in (("user", {"detail": views.UserDetailView}), ("role", {}), ("department", {})):
    rt = registry.get(key)
    urlpatterns += record_urls(rt, extra)

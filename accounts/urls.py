from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.two_factor_verify_view, name="two-factor"),
    path("two-factor/setup/", views.two_factor_setup_view, name="two-factor-setup"),
]

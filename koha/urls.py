from django.urls import path

from koha import views

app_name = "koha-billing"
urlpatterns = [
    path("koha-codes/", views.billing_koha_codes_view, name="codes"),
    path("koha-codes/<id:finding_id>/checked/", views.billing_koha_code_check_view, name="code-checked"),
]

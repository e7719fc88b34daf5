"""The DPO's lists on a 1,280 px screen: a changelist with many columns and a filter panel needs the width the
admin's menu takes, so these lists are shown without it (the breadcrumbs and the home page still lead around)."""

from django.contrib import admin


class WideChangelistAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["css/dpo_admin.css"]}  # long column names wrap

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

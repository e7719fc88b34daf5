"""The DPO's JSON API under /api/v1/: data-subject requests and the breach register (DPO only)."""

urlpatterns: list = []

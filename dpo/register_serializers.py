"""The register descriptions' JSON: each register of a consortium with its texts per language."""

from rest_framework import serializers

from core import api_fields
from dpo.models import RegisterDescription, RegisterDescriptionText


class RegisterDescriptionTextSerializer(api_fields.ModelSerializer):
    class Meta:
        model = RegisterDescriptionText
        fields = list(RegisterDescriptionText.TEXT_FIELDS)


class RegisterDescriptionSerializer(api_fields.ModelSerializer):
    consortium: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    contact_user: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The username of the contact person, who answers written access requests (the DPO may too)",
    )
    texts = serializers.SerializerMethodField(help_text="The description's fields by language code (fi, sv, en)")

    class Meta:
        model = RegisterDescription
        fields = ["id", "consortium", "register", "contact_user", "retention_days", "updated_at", "texts"]

    def get_texts(self, description) -> dict[str, dict[str, str]]:
        return {text.language: RegisterDescriptionTextSerializer(text).data for text in description.texts.all()}

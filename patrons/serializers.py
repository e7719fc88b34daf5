from rest_framework import serializers

from patrons.models import Guardianship, Patron


class PatronListSerializer(serializers.ModelSerializer):
    home_library = serializers.CharField(source="home_library.koha_library_id", read_only=True)

    class Meta:
        model = Patron
        fields = ["id", "koha_patron_id", "cardnumber", "first_name", "last_name", "home_library"]
        read_only_fields = fields


class GuardianSerializer(serializers.ModelSerializer):
    guardian_id = serializers.IntegerField(source="guardian.id", read_only=True)

    class Meta:
        model = Guardianship
        fields = ["guardian_id", "relationship"]
        read_only_fields = fields


class PatronDetailSerializer(PatronListSerializer):
    guardians = GuardianSerializer(source="guardianships", many=True, read_only=True)

    class Meta(PatronListSerializer.Meta):
        fields = [
            *PatronListSerializer.Meta.fields,
            "date_of_birth",
            "email",
            "phone",
            "street_address",
            "postal_code",
            "city",
            "card_expires_on",
            "status",
            "language",
            "loan_history",
            "data_provided_by_guardian",
            "guardians",
        ]
        read_only_fields = fields


class PatronPageSerializer(serializers.Serializer):
    """The paginated list shape, for the OpenAPI schema."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PatronListSerializer(many=True)

"""Request and response shapes of the identity-code API. The services decide what is valid.

Fields are optional here on purpose: a missing code or reason must reach the
service, which logs the refused attempt before answering 400.
"""

from rest_framework import serializers


class IdentityCodeStoreSerializer(serializers.Serializer):
    identity_code = serializers.CharField(
        write_only=True, required=False, allow_blank=True, default="", max_length=40, style={"input_type": "password"}
    )


class StoredSerializer(serializers.Serializer):
    stored = serializers.BooleanField()


class RevealRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class RevealedSerializer(serializers.Serializer):
    identity_code = serializers.CharField()


class LookupRequestSerializer(IdentityCodeStoreSerializer, RevealRequestSerializer):
    pass


class PatronRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class LookupResultSerializer(serializers.Serializer):
    patron = PatronRefSerializer()


class IdentityCodeErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, in the caller's language; never the code.")
    code = serializers.CharField(required=False, help_text="A stable machine code, e.g. `rate_limited`.")


class ConflictPatronSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    cardnumber = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="conflict.pk")
    entered_at = serializers.DateTimeField(source="conflict.entered_at")
    entered_by = serializers.CharField(source="conflict.entered_by", help_text="Who entered the code.")
    patron = ConflictPatronSerializer(allow_null=True, help_text="The code was entered for this patron.")
    holder = ConflictPatronSerializer(allow_null=True, help_text="This patron already has the code.")


class ConflictPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="total", help_text="How many conflicts wait, all told.")
    results = ConflictSerializer(source="conflicts", many=True, help_text="The oldest 100 at most.")


class ConflictResolveRequestSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="`move`: the code belongs to the patron it was entered for (the other patron loses it); "
        "`keep`: it stays with the patron who has it (the entry is discarded).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ConflictResolvedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resolution = serializers.CharField()
    resolved_at = serializers.DateTimeField()

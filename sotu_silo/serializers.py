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

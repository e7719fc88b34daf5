"""The daily access review as JSON: GET /api/v1/access-review/?day=YYYY-MM-DD (the DPO only)."""

import datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import api_fields
from dpo.review import FindingKind, access_review_read, default_review_day
from staff.access import access_review_actor


class AccessReviewQuerySerializer(serializers.Serializer):
    day = api_fields.DateField(required=False)


class DailyReadsSerializer(serializers.Serializer):
    day = serializers.DateField()
    reads = serializers.IntegerField()


class StaffReadsSerializer(serializers.Serializer):
    actor_id = serializers.IntegerField()
    username = serializers.CharField()
    reads = serializers.IntegerField()
    usual = serializers.FloatField()
    above_usual = serializers.BooleanField()
    history = DailyReadsSerializer(many=True)


class FindingSerializer(serializers.Serializer):
    actor_id = serializers.IntegerField()
    username = serializers.CharField()
    kind = serializers.ChoiceField(choices=FindingKind.choices)
    patron_id = serializers.IntegerField(allow_null=True)
    event_count = serializers.IntegerField()
    url = serializers.CharField(help_text="The admin's access-event list showing the events behind the finding.")


class AccessReviewSerializer(serializers.Serializer):
    day = serializers.DateField()
    staff = StaffReadsSerializer(many=True)
    findings = FindingSerializer(many=True)


class AccessReviewApi(APIView):
    @extend_schema(
        operation_id="access_review_retrieve",
        summary="The daily access review of staff reads (DPO only)",
        description="For the caller's consortium and one local day (`day`, yesterday by default; not after "
        "today): each staff member's patron reads against their usual volume over the 28 days before, and "
        "findings (reads well above usual, of a colleague's record, of a patron with the same surname, of a "
        "protected patron, of one's own record; role changes and second-factor resets), each linked to the "
        "events behind it. Patron ids only; "
        "the read is logged with them.",
        parameters=[OpenApiParameter("day", datetime.date, description="The reviewed day, YYYY-MM-DD.")],
        responses=AccessReviewSerializer,
    )
    def get(self, request: Request) -> Response:
        actor = access_review_actor(request)
        query = AccessReviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        review = access_review_read(actor=actor, day=query.validated_data.get("day") or default_review_day())
        return Response(AccessReviewSerializer(review).data)

"""The access report in the JSON API, as JSON and as the PDF the patron gets (the DPO only).

Both answer `Cache-Control: no-store`: the report is everything held about a person. A request whose
patron has been erased answers 404 `{"detail", "code": "patron_erased"}`.
"""

from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dpo.access_report import access_report_build
from dpo.access_report_document import access_report_filename, access_report_pdf
from staff.access import subject_request_actor


class AccessReportItemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's code, e.g. `first_name`.")
    label = serializers.CharField(help_text="The field's name in the report's language.")  # type: ignore[assignment]  # a field named as Field.label
    value = serializers.JSONField(help_text="The value: a code for a choice, ISO 8601 for dates and times.")
    text = serializers.CharField(help_text="The value as the report shows it, in the report's language.")


class AccessReportRecordSerializer(serializers.Serializer):
    items = AccessReportItemSerializer(many=True)


class AccessReportSectionSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="patron, notes, note_revisions, bans, access_prohibitions, guardians, wards, trusteeship, "
        "registers, subject_requests, access_log"
    )
    title = serializers.CharField()
    description = serializers.CharField()
    layout = serializers.ChoiceField(choices=["fields", "table"])
    columns = serializers.ListField(child=serializers.CharField(), help_text="A table's fields, in order.")
    records = AccessReportRecordSerializer(many=True)


class AccessReportPreviousSerializer(serializers.Serializer):
    request_id = serializers.IntegerField()
    report_made_at = serializers.DateTimeField()


class AccessReportRequesterSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="guardian, authorised_representative or other")
    role_label = serializers.CharField()
    name = serializers.CharField()


class AccessSummaryCountSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A data category, or the action of an event that names none.")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named as Field.label
    events = serializers.IntegerField()


class AccessSummaryRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    role = serializers.CharField(help_text="The role now of who processed the data, in the report's language.")
    events = serializers.IntegerField()
    categories = AccessSummaryCountSerializer(many=True)


class AccessSummarySerializer(serializers.Serializer):
    columns = AccessSummaryCountSerializer(many=True, help_text="Each kind of data processed, with its total.")
    rows = AccessSummaryRowSerializer(many=True)


class AccessReportSerializer(serializers.Serializer):
    request_id = serializers.IntegerField()
    patron_id = serializers.IntegerField()
    patron_name = serializers.CharField()
    controller = serializers.CharField()
    language = serializers.CharField()
    received_on = serializers.DateField()
    report_made_at = serializers.DateTimeField(help_text="When this request's report was first made.")
    generated_at = serializers.DateTimeField()
    repeat = serializers.BooleanField(
        help_text="An earlier report of the patron was made (however long ago). The copy is still free unless the "
        "DPO records a finding that the request is manifestly unfounded or excessive or asks for a further copy "
        "(GDPR Art. 12(5), 15(3))."
    )
    previous_report = AccessReportPreviousSerializer(allow_null=True)
    requester = AccessReportRequesterSerializer(
        allow_null=True,
        help_text="The representative who asked for the patron; the report is addressed and delivered to them. "
        "Null: the patron asked themself.",
    )
    identity_code_stored = serializers.BooleanField(help_text="Whether a code is stored; never the code.")
    staff_names_included = serializers.BooleanField()
    access_summary = AccessSummarySerializer(
        help_text="The access log grouped by day and role, with the events per data category; the `access_log` "
        "section lists every event.",
    )
    sections = AccessReportSectionSerializer(many=True)
    incomplete = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why a part of the data is missing (the library system could not be read): the report cannot be "
        "delivered until one made later is complete. Empty: complete.",
    )


ERRORS = {
    400: OpenApiResponse(description="Not an access request (`not_access_request`)."),
    403: OpenApiResponse(description="Not the data protection officer."),
    404: OpenApiResponse(description="No such request in your consortium, or the patron was erased (`patron_erased`)."),
}


@method_decorator(never_cache, name="dispatch")
class SubjectRequestReportApi(APIView):
    @extend_schema(
        operation_id="subject_requests_report",
        summary="The access report of an access request, as JSON (DPO only)",
        description="Everything held about the patron, in sections of labelled values in the patron's language, "
        "and the access log about them. The first report of a request records when it was made; the read is an "
        "`access_report` access event.",
        responses={200: AccessReportSerializer, **ERRORS},
    )
    def get(self, request: Request, request_id: int) -> Response:
        report = access_report_build(actor=subject_request_actor(request), request_id=request_id)
        return Response(AccessReportSerializer(report).data, headers={"Content-Language": report.language})


@method_decorator(never_cache, name="dispatch")
class SubjectRequestReportPdfApi(APIView):
    def perform_content_negotiation(self, request, force=False):
        # The answer is a PDF whatever the client accepts; errors fall back to JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="subject_requests_report_pdf",
        summary="The access report of an access request, as a PDF (DPO only)",
        description="The same report as the JSON, as the document sent to the patron, in their language. The "
        "file name holds the request number only.",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, request_id: int) -> HttpResponse:
        report = access_report_build(actor=subject_request_actor(request), request_id=request_id)
        pdf = access_report_pdf(report, base_url=request.build_absolute_uri("/"))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{access_report_filename(report)}"'
        response["Content-Language"] = report.language
        return response

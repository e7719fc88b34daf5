"""The register descriptions' JSON API (DPO only): the Art. 30 record of the caller's consortium."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dpo.register_selectors import register_descriptions_for
from dpo.register_serializers import RegisterDescriptionSerializer
from staff.access import register_description_actor


class RegisterDescriptionListApi(APIView):
    @extend_schema(
        operation_id="register_descriptions_list",
        summary="The register descriptions of the caller's consortium",
        description="One entry per register (library system, interlibrary loans, newsletter, home service, CCTV) "
        "with `texts` keyed by language: controller, contact person, DPO, purpose, legal basis, categories of "
        "data and people, recipients, transfers, retention and security measures.",
        responses=RegisterDescriptionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor = register_description_actor(request)
        descriptions = register_descriptions_for(consortium_id=actor.consortium_id)
        return Response(RegisterDescriptionSerializer(descriptions, many=True).data)

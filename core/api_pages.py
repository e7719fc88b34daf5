"""The API's paginated lists: one shape, `{"count", "next", "previous", "results"}`, for every list read by GET.

The selector reads (and logs) one page itself, so DRF's paginators are not used: `page_body` answers that page,
with `next` and `previous` as URLs of the same query (null at either end), and `page_serializer` names the shape
in the OpenAPI schema. A search sent by POST (the text never in a URL) answers page numbers instead
(patrons.serializers.PatronSearchPageSerializer).
"""

from django.core.paginator import Page
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param


def page_serializer(name: str, results: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page shape of `results` for the schema, as the class `name` (its component is `name` less
    "Serializer", as for a class written out)."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": "One page of the list: `next` and `previous` are the neighbouring pages' URLs, null at either "
            "end.",
            "__module__": results.__module__,
            "count": serializers.IntegerField(help_text="How many in the whole list."),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": results(many=True),
        },
    )


def _links(request: Request, page: Page) -> dict[str, str | None]:
    url = request.build_absolute_uri()

    def link(number: int) -> str:
        return replace_query_param(url, "page", number) if number > 1 else remove_query_param(url, "page")

    return {
        "next": link(page.next_page_number()) if page.has_next() else None,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
    }


def page_body(request: Request, page: Page, results: type[serializers.Serializer]) -> dict:
    """The answer of a page the selector already read (and logged), in page_serializer's shape."""
    return {
        "count": page.paginator.count,
        **_links(request, page),
        "results": results(page.object_list, many=True).data,
    }

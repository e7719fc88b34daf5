"""`manage.py consortium_create`: a new consortium with its first municipality, network(s), library and
administrator (an existing account), who then administers it in the admin; see staff.services."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from staff.models import Jurisdiction
from staff.services import consortium_create


class Command(BaseCommand):
    help = (
        "Set up a new consortium: its first municipality with the networks its staff work from, its first "
        "library, and an existing user account placed there as its first administrator."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="e.g. “Kainuun kirjastot”")
        parser.add_argument("--slug", required=True, help="short name in URLs, e.g. kainuun-kirjastot")
        parser.add_argument("--jurisdiction", required=True, choices=Jurisdiction.values)
        parser.add_argument("--municipality", required=True, help="the first municipality's name")
        parser.add_argument(
            "--network", action="append", default=[], help="a CIDR the municipality's staff work from (repeatable)"
        )
        parser.add_argument("--library", required=True, help="the first library's Koha library id (branchcode)")
        parser.add_argument("--library-name", required=True)
        parser.add_argument("--administrator", required=True, help="the username of an account with no consortium")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            consortium = consortium_create(
                name=options["name"],
                slug=options["slug"],
                jurisdiction=options["jurisdiction"],
                municipality=options["municipality"],
                networks=options["network"],
                library_id=options["library"],
                library_name=options["library_name"],
                administrator=options["administrator"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            _("Consortium “%(name)s” created; %(username)s administers it.")
            % {"name": consortium.name, "username": options["administrator"]}
        )

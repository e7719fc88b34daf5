"""`manage.py koha_connect <consortium-slug> --url URL --auth oauth2|basic --client-id ID [--no-check]`
(and `--staff-url URL`, the staff interface's address when it is not --url).

Creates or changes the consortium's Koha connection (koha.services.koha_connection_save), then checks it
with one call (a token, then one library). The secret comes from the environment variable
KOHA_CLIENT_SECRET or standard input, never from an argument: arguments are visible to every user of the
machine (`ps`) and stay in shell histories. For the same reason a mistyped argument is not echoed back.
"""

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from core.errors import RuleBroken
from koha.errors import KohaError
from koha.models import AuthMethod
from koha.services import koha_connection_save
from staff.models import Consortium

SECRET_VARIABLE = "KOHA_CLIENT_SECRET"  # noqa: S105 - the variable's name, not a secret
COMMAND_ACTOR = "koha_connect"


class Command(BaseCommand):
    help = (
        "Connect a consortium to its Koha (create or change), then test the connection. The client secret "
        "(or Basic password) is read from the environment variable KOHA_CLIENT_SECRET or standard input."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        plain_error = parser.error

        def error(message: str) -> Any:
            if "unrecognized arguments" in message:  # argparse would repeat them: one may be the secret
                message = _(
                    "Unknown arguments (not repeated here). The secret is never an argument: give it in "
                    "KOHA_CLIENT_SECRET or on standard input."
                )
            return plain_error(message)

        parser.error = error  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("consortium", help="the consortium's short name (slug), e.g. lapin-kirjastot")
        parser.add_argument("--url", required=True, help="Koha's address without /api/v1, e.g. https://koha.example.fi")
        parser.add_argument(
            "--staff-url",
            help="Koha's staff interface address, when it is not --url (staff open patrons there from this service)",
        )
        parser.add_argument("--auth", choices=AuthMethod.values, default=AuthMethod.OAUTH2)
        parser.add_argument("--client-id", required=True, help="the API key's client id, or the Basic user name")
        parser.add_argument("--disabled", action="store_true", help="Save the connection turned off.")
        parser.add_argument("--no-check", action="store_true", help="Save without the test call to Koha.")

    @sensitive_variables("secret")
    def handle(self, *args: Any, **options: Any) -> None:
        consortium = Consortium.objects.filter(slug=options["consortium"]).first()
        if consortium is None:
            raise CommandError(_("No consortium has the short name “%(slug)s”.") % {"slug": options["consortium"]})
        secret = self.read_secret()
        actor = Actor(
            user_id=None,
            username=COMMAND_ACTOR,
            municipality_id=None,
            consortium_id=consortium.pk,
            client_ip=None,
            resource=COMMAND_ACTOR,
        )
        try:
            connection, changed = koha_connection_save(
                actor=actor,
                consortium=consortium,
                base_url=options["url"],
                auth=options["auth"],
                client_id=options["client_id"],
                secret=secret,
                enabled=not options["disabled"],
                staff_url=options["staff_url"],
            )
        except RuleBroken as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            _("Koha connection of “%(consortium)s” saved (%(url)s); changed: %(changed)s.")
            % {"consortium": consortium.name, "url": connection.base_url, "changed": ", ".join(changed) or "-"}
        )
        if options["no_check"]:
            return
        try:
            libraries = connection.client().check()
        except KohaError as error:
            raise CommandError(_("The connection does not work yet: %(error)s") % {"error": error}) from None
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "The connection works: Koha answered and has %(count)d library.",
                    "The connection works: Koha answered and has %(count)d libraries.",
                    libraries,
                )
                % {"count": libraries}
            )
        )

    @sensitive_variables("secret")
    def read_secret(self) -> str:
        """From KOHA_CLIENT_SECRET, else standard input (a prompt that does not echo on a terminal)."""
        secret = os.environ.get(SECRET_VARIABLE)
        if secret is None:
            if sys.stdin.isatty():
                secret = getpass.getpass(_("Client secret (or Basic password): "))
            else:
                secret = sys.stdin.readline()
        secret = secret.strip()
        if not secret:
            raise CommandError(_("No secret given: set KOHA_CLIENT_SECRET or give the secret on standard input."))
        return secret

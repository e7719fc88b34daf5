"""Swedish as spoken where the library is: the legal terms differ between Sweden and Finland.

`sv` is Swedish as in Sweden (personnummer, god man; locale/sv), `sv-fi` Finland-Swedish (personbeteckning,
intressebevakning; the hand-kept locale/sv_FI over locale/sv). Users, patrons and Koha know one "sv"; the
variant follows the consortium's country, and Finland's when it is not known (the product's home).
"""

from staff.models import Jurisdiction

FINLAND_SWEDISH = "sv-fi"


def swedish_variant(language: str, *, jurisdiction: str | None) -> str:
    """`language` to activate: Swedish as in Sweden for a consortium in Sweden, Finland-Swedish otherwise."""
    if language == "sv" and jurisdiction != Jurisdiction.SWEDEN:
        return FINLAND_SWEDISH
    return language

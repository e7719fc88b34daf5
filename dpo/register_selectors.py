"""Reads of the register descriptions (Art. 30) and the public privacy notice built from them.

No patron data is read here: a description says what is kept and why, never about whom.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import translation

from core.registers import Register
from dpo.models import RegisterDescription, RegisterDescriptionText
from dpo.services.breaches import supervisory_authority
from staff.models import Consortium, Jurisdiction

# Where a patron complains (GDPR Art. 77); the authority's name is the breach register's (notified there too).
AUTHORITY_WEBSITES: dict[str, str] = {
    Jurisdiction.FINLAND: "https://tietosuoja.fi",
    Jurisdiction.SWEDEN: "https://www.imy.se",
}

_REGISTER_ORDER = {value: index for index, value in enumerate(Register.values)}


@dataclass(frozen=True)
class SupervisoryAuthority:
    name: str
    url: str


@dataclass(frozen=True)
class NoticeRegister:
    """One register in the notice, with its text in the visitor's language or, failing that, in Finnish."""

    description: RegisterDescription
    text: RegisterDescriptionText
    language: str  # the language asked for

    @property
    def register_name(self) -> str:
        return self.description.get_register_display()

    @property
    def is_fallback(self) -> bool:
        """The text is in another language than the one asked for (mark it up with its own `lang`)."""
        return self.text.language != self.language


@dataclass(frozen=True)
class PrivacyNotice:
    consortium: Consortium
    registers: list[NoticeRegister]
    authority: SupervisoryAuthority

    @property
    def responsible(self) -> RegisterDescriptionText:
        """Who answers for the registers: the library system's controller, else the first register's."""
        return self.registers[0].text

    @property
    def updated_at(self):
        return max(register.description.updated_at for register in self.registers)


def register_descriptions_for(*, consortium_id: int | None) -> list[RegisterDescription]:
    """A consortium's descriptions with their texts, in the order of the Mikkeli notice (the library system first)."""
    descriptions = RegisterDescription.objects.of_consortium(consortium_id).prefetch_related(
        Prefetch("texts", queryset=RegisterDescriptionText.objects.order_by("language"))
    )
    return sorted(descriptions, key=lambda description: _REGISTER_ORDER.get(description.register, len(Register)))


def consortia_with_notice() -> QuerySet[Consortium]:
    """Consortia that have at least one described register, so a notice to show."""
    return Consortium.objects.filter(register_descriptions__texts__isnull=False).distinct().order_by("name")


def privacy_notice_get(*, consortium_slug: str, language: str) -> PrivacyNotice | None:
    """The public notice of a consortium in `language`, or None when it has no described register."""
    consortium = Consortium.objects.filter(slug=consortium_slug).first()
    if consortium is None:
        return None
    registers = []
    for description in register_descriptions_for(consortium_id=consortium.pk):
        texts = {text.language: text for text in description.texts.all()}
        text = texts.get(language[:2]) or texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), None)
        if text is not None:
            registers.append(NoticeRegister(description=description, text=text, language=language))
    if not registers:
        return None
    authority = SupervisoryAuthority(
        name=str(supervisory_authority(consortium.jurisdiction)), url=AUTHORITY_WEBSITES[consortium.jurisdiction]
    )
    return PrivacyNotice(consortium=consortium, registers=registers, authority=authority)


@dataclass(frozen=True)
class RegisterRetention:
    """A consortium's retention for a register as its register description gives it, for the retention report."""

    consortium: str
    retention_days: int | None  # None: not given as a number (or no description)
    retention_text: str  # in the current language, else Finnish, else any; "" without a description text


def register_retention(register: str) -> list[RegisterRetention]:
    """Each consortium's retention for `register`: days and text, or nothing when it has no description."""
    descriptions = {
        description.consortium_id: description
        for description in RegisterDescription.objects.filter(register=register).prefetch_related("texts")
    }
    language = translation.get_language() or settings.LANGUAGE_CODE
    result = []
    for pk, name in Consortium.objects.order_by("name").values_list("pk", "name"):
        description = descriptions.get(pk)
        texts: dict[str, RegisterDescriptionText] = (
            {text.language: text for text in description.texts.all()} if description else {}
        )
        text = texts.get(language[:2]) or texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), None)
        result.append(
            RegisterRetention(
                consortium=name,
                retention_days=description.retention_days if description else None,
                retention_text=text.retention.strip() if text else "",
            )
        )
    return result

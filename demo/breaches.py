"""Demo breaches for `seed_demo`, in Lapin kirjastot: one from the past, notified and closed, and one open,
high-risk breach whose 72 hours are running.

Created once and never re-dated, like the other demo procedures: a second run finds each by its natural key
(consortium and description) and leaves it, so the open breach's deadline passes like a real one. Rows are
written directly (the demo's history is nobody's processing); the deadline comes from the service's rule.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from audit.models import DataCategory
from core import dates
from demo.procedures import SEEDER
from dpo.models import AuthorityNotification, Breach, NotificationPhase, RiskLevel
from dpo.services.breaches import authority_deadline_for
from patrons.models import Patron
from staff.models import Consortium

CONSORTIUM = "lapin-kirjastot"
PAST = (
    "Eräpäivämuistutukset lähetettiin sähköpostilla väärille vastaanottajille: postituslistan lajittelu meni "
    "sekaisin, ja kukin sai toisen asiakkaan muistutuksen (nimi, lainat, eräpäivät)."
)
OPEN = (
    "Kirjastoauton kannettava tietokone varastettiin Kemissä. Koneelle oli tallennettu ote asiakasrekisteristä "
    "(nimet, osoitteet, puhelinnumerot) eikä levyä ollut salattu."
)


def _at(days_ago: int, hour: int, minute: int = 0) -> datetime.datetime:
    day = dates.today() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _concerned(consortium: Consortium) -> list[int]:
    """Two adults and a minor with guardians, so the contact list shows a guardian in the minor's place."""
    patrons = Patron.objects.filter(consortium=consortium).order_by("koha_patron_id")
    today = dates.today()
    # Under 17 today, so still a minor for a year.
    minor = patrons.filter(date_of_birth__gt=today - relativedelta(years=17), guardianships__isnull=False).first()
    adults = list(patrons.filter(date_of_birth__lt=today - relativedelta(years=25))[:2])
    return [p.pk for p in [*adults, minor] if p is not None]


def seed_breaches() -> int:
    """The demo breaches; returns how many were created."""
    consortium = Consortium.objects.filter(slug=CONSORTIUM).first()
    if consortium is None:
        return 0
    created = 0
    if not Breach.objects.filter(consortium=consortium, description=PAST).exists():
        aware_at = _at(40, 10, 20)
        breach = Breach.objects.create(
            consortium=consortium,
            aware_at=aware_at,
            occurred_at=_at(41, 16, 5),
            description=PAST,
            data_categories=[DataCategory.BASIC, DataCategory.CONTACT],
            people_affected=12,
            records_affected=12,
            consequences="Lainatiedot paljastuivat ulkopuolisille; ei arkaluonteisia tietoja.",
            measures="Vastaanottajia pyydetty poistamaan viestit; lajittelu korjattu ja tarkistettu.",
            risk=RiskLevel.RISK,
            authority_deadline=authority_deadline_for(aware_at),
            recorded_at=aware_at + datetime.timedelta(minutes=40),
            recorded_by=SEEDER,
            closed_on=(aware_at + datetime.timedelta(days=20)).date(),
        )
        for phase, days, hours in ((NotificationPhase.INITIAL, 1, 4), (NotificationPhase.FINAL, 14, 0)):
            notified_at = aware_at + datetime.timedelta(days=days, hours=hours)
            AuthorityNotification.objects.create(
                breach=breach,
                phase=phase,
                notified_at=notified_at,
                reference="TSV/1234/2026" if phase == NotificationPhase.INITIAL else "",
                recorded_at=notified_at,
                recorded_by=SEEDER,
            )
        created += 1
    if not Breach.objects.filter(consortium=consortium, description=OPEN).exists():
        aware_at = timezone.now().replace(second=0, microsecond=0) - datetime.timedelta(hours=20)
        Breach.objects.create(
            consortium=consortium,
            aware_at=aware_at,
            description=OPEN,
            data_categories=[DataCategory.BASIC, DataCategory.CONTACT],
            people_affected=3,
            records_affected=3,
            risk=RiskLevel.HIGH,
            authority_deadline=authority_deadline_for(aware_at),
            affected_patron_ids=_concerned(consortium),
            recorded_at=aware_at + datetime.timedelta(minutes=15),
            recorded_by=SEEDER,
        )
        created += 1
    return created

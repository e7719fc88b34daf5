"""factory-boy factories for tests: a whole small world without the demo data."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from patrons.models import Patron
from staff.models import AllowedNetwork, Consortium, Jurisdiction, Library, Municipality, StaffProfile


class ConsortiumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consortium

    name = factory.Sequence(lambda n: f"Testikimppa {n}")
    slug = factory.Sequence(lambda n: f"testikimppa-{n}")
    jurisdiction = Jurisdiction.FINLAND


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality

    consortium = factory.SubFactory(ConsortiumFactory)
    name = factory.Sequence(lambda n: f"Testikunta {n}")
    official_name = factory.LazyAttribute(lambda municipality: f"{municipality.name}n kunta")
    rectification_body = "Sivistyslautakunta"
    rectification_address = "Kunnan kirjaamo, PL 1, 99999 Testikunta"


class AllowedNetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllowedNetwork

    municipality = factory.SubFactory(MunicipalityFactory)
    cidr = factory.Sequence(lambda n: f"10.{200 + n // 256 % 50}.{n % 256}.0/24")


class LibraryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Library

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Testikirjasto {n}")
    koha_library_id = factory.Sequence(lambda n: f"T{n:05d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"testi.user{n}")
    password = factory.PostGenerationMethodCall("set_password", "kirjasto-demo-2026")

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        if create and names:
            self.groups.set(Group.objects.filter(name__in=names))


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory, groups=["staff"])
    home_library = factory.SubFactory(LibraryFactory)
    confidentiality_signed_on = datetime.date(2026, 1, 15)


class PatronFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patron

    home_library = factory.SubFactory(LibraryFactory)
    consortium = factory.LazyAttribute(lambda patron: patron.home_library.municipality.consortium)
    koha_patron_id = factory.Sequence(lambda n: 900_000 + n)
    cardnumber = factory.Sequence(lambda n: f"99{n:012d}")
    first_name = factory.Iterator(["Aino", "Eino", "Helmi", "Väinö"])
    last_name = factory.Iterator(["Testinen", "Koekäyttäjä", "Mallikas"])
    date_of_birth = datetime.date(1980, 5, 17)

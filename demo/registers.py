"""Demo register descriptions (Art. 30, rekisteriseloste) for `seed_demo`: the five registers of the Mikkeli notice for
every demo consortium, in Finnish, Swedish and English.

The texts are written for the demo consortia: contact people are named by title only and every address is at
example.fi or example.se. Swedish descriptions differ from the Finnish ones where the law or the service
does (bibliotekslagen, OSL 40 kap. 3 §, personnummer, Libris); everything else is shared.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from core.registers import Register
from dpo.models import RegisterDescription, RegisterDescriptionText
from staff.models import Consortium, Jurisdiction

Sync = Callable[[type[models.Model], dict[str, Any], dict[str, Any]], tuple[Any, bool]]
Texts = dict[str, dict[str, str]]  # language -> field -> text

LANGUAGES = ("fi", "sv", "en")

# Only CCTV recordings have a fixed time: the recorder overwrites them after 2-4 weeks (Mikkeli notice).
RETENTION_DAYS = {Register.CCTV: 28}


@dataclass(frozen=True)
class ControllerSpec:
    """Who answers for one consortium's registers, and the name of its home service, per language."""

    controller: dict[str, str]
    contact_person: dict[str, str]
    dpo_contact: dict[str, str]
    home_service: dict[str, str]


CONTROLLERS: dict[str, ControllerSpec] = {
    "lapin-kirjastot": ControllerSpec(
        controller={
            "fi": "Rovaniemen kaupunki ja Kemin kaupunki, Lapin kirjastot -kimpan kunnat, yhteisrekisterinpitäjinä. "
            "Kumpikin vastaa omien kirjastojensa asiakaspalvelusta ja kameravalvonnasta; yhteistä "
            "asiakasrekisteriä hoitaa Rovaniemen kaupunginkirjasto.",
            "sv": "Rovaniemi stad och Kemi stad, kommunerna i samarbetet Lapin kirjastot, som gemensamt "
            "personuppgiftsansvariga. Vardera ansvarar för kundtjänsten och kamerabevakningen i sina egna "
            "bibliotek; det gemensamma låntagarregistret sköts av Rovaniemi stadsbibliotek.",
            "en": "The City of Rovaniemi and the City of Kemi, the municipalities of the Lapin kirjastot consortium, "
            "as joint controllers. Each answers for the service and CCTV in its own libraries; the shared "
            "patron register is kept by Rovaniemi City Library.",
        },
        contact_person={
            "fi": "Kirjastotoimenjohtaja, Rovaniemen kaupunginkirjasto, kirjasto@rovaniemi.example.fi",
            "sv": "Bibliotekschefen, Rovaniemi stadsbibliotek, kirjasto@rovaniemi.example.fi",
            "en": "The head of library services, Rovaniemi City Library, kirjasto@rovaniemi.example.fi",
        },
        dpo_contact={
            "fi": "Rovaniemen kaupungin tietosuojavastaava, tietosuoja@rovaniemi.example.fi, ja Kemin kaupungin "
            "tietosuojavastaava, tietosuoja@kemi.example.fi",
            "sv": "Rovaniemi stads dataskyddsombud, tietosuoja@rovaniemi.example.fi, och Kemi stads "
            "dataskyddsombud, tietosuoja@kemi.example.fi",
            "en": "The data protection officers of the City of Rovaniemi, tietosuoja@rovaniemi.example.fi, and of "
            "the City of Kemi, tietosuoja@kemi.example.fi",
        },
        home_service={
            "fi": "Kirjastojen kotipalvelu",
            "sv": "Bibliotekens hemservice",
            "en": "The libraries' home service",
        },
    ),
    "mikkelin-seutukirjasto": ControllerSpec(
        controller={
            "fi": "Mikkelin kaupunki. Rekisteriä hoitaa Mikkelin seutukirjasto (Mikkelin pääkirjasto ja Ristiinan "
            "kirjasto).",
            "sv": "S:t Michels stad. Registret sköts av Mikkelin seutukirjasto (huvudbiblioteket i S:t Michel och "
            "Ristina bibliotek).",
            "en": "The City of Mikkeli. The register is kept by Mikkelin seutukirjasto (Mikkeli main library and "
            "Ristiina library).",
        },
        contact_person={
            "fi": "Elinikäisen oppimisen ja osallisuuden johtaja, kirjasto@mikkeli.example.fi",
            "sv": "Direktören för livslångt lärande och delaktighet, kirjasto@mikkeli.example.fi",
            "en": "The director of lifelong learning and participation, kirjasto@mikkeli.example.fi",
        },
        dpo_contact={
            "fi": "Mikkelin kaupungin tietosuojavastaava, tietosuoja@mikkeli.example.fi",
            "sv": "S:t Michels stads dataskyddsombud, tietosuoja@mikkeli.example.fi",
            "en": "The City of Mikkeli's data protection officer, tietosuoja@mikkeli.example.fi",
        },
        home_service={
            "fi": "Kirjastoring",
            "sv": "Kirjastoring (bibliotekets hemservice)",
            "en": "Kirjastoring (the library's home service)",
        },
    ),
    "eslovs-bibliotek": ControllerSpec(
        controller={
            "fi": "Eslövin kunnan kulttuuri- ja vapaa-aikalautakunta. Rekisteriä hoitaa Eslövs bibliotek (Eslövin "
            "kaupunginkirjasto ja Marieholmin kirjasto).",
            "sv": "Kultur- och fritidsnämnden i Eslövs kommun. Registret sköts av Eslövs bibliotek (Eslövs "
            "stadsbibliotek och Marieholms bibliotek).",
            "en": "The Culture and Leisure Committee of the Municipality of Eslöv. The register is kept by Eslövs "
            "bibliotek (Eslöv City Library and Marieholm library).",
        },
        contact_person={
            "fi": "Kirjastonjohtaja, Eslövs bibliotek, bibliotek@eslov.example.se",
            "sv": "Bibliotekschefen, Eslövs bibliotek, bibliotek@eslov.example.se",
            "en": "The head librarian, Eslövs bibliotek, bibliotek@eslov.example.se",
        },
        dpo_contact={
            "fi": "Eslövin kunnan tietosuojavastaava, dataskyddsombud@eslov.example.se",
            "sv": "Eslövs kommuns dataskyddsombud, dataskyddsombud@eslov.example.se",
            "en": "The Municipality of Eslöv's data protection officer, dataskyddsombud@eslov.example.se",
        },
        home_service={
            "fi": "Boken kommer (kirjaston kotipalvelu)",
            "sv": "Boken kommer",
            "en": "Boken kommer (the library's home service)",
        },
    ),
}

NO_TRANSFERS = {
    "fi": "Tietoja ei siirretä EU:n tai Euroopan talousalueen ulkopuolelle.",
    "sv": "Uppgifterna överförs inte till länder utanför EU eller Europeiska ekonomiska samarbetsområdet.",
    "en": "The data is not transferred outside the EU or the European Economic Area.",
}

# The Finnish descriptions. `{home_service}` is the consortium's name for its home service.
FINLAND: dict[str, Texts] = {
    Register.LIBRARY_SYSTEM: {
        "fi": {
            "purpose": "Lainauksen hoitaminen ja valvonta, yhteydenpito asiakkaaseen asiakaspalveluun liittyvissä "
            "asioissa, lainaajatilastot sekä kirjaston käytön valvonta. Henkilötunnusta käytetään vain "
            "palauttamattoman tai turmeltuneen aineiston laskutukseen tai kun henkilöllisyys on muusta syystä "
            "tarkistettava.",
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "yleisen kirjaston tehtävät laissa yleisistä kirjastoista (1492/2016, 6 §) ja kirjaston käyttökiellot "
            "saman lain 15 §:n mukaan. Laskujen ja maksujen kirjanpito on lakisääteinen velvoite (6 artiklan "
            "1 kohdan c alakohta, kirjanpitolaki 1336/1997). Henkilötunnusta käsitellään tietosuojalain "
            "(1050/2018) 29 §:n mukaan vain, kun asiakas on yksilöitävä yksiselitteisesti.",
            "data_categories": "Nimi, osoite, puhelinnumero, sähköpostiosoite, syntymäaika, asiointikieli, "
            "kirjastokortin numero ja PIN-koodi, kotikirjasto sekä lainat, varaukset ja maksut. Henkilökunnan "
            "huomautukset, alaikäisen huoltajat, tieto holhouksesta tai edunvalvonnasta ja "
            "saavutettavuuspalveluista (arkaluonteisia) sekä kirjaston käyttökiellot. Henkilötunnus säilytetään "
            "salattuna erillään muista tiedoista.",
            "people_categories": "Kirjaston asiakkaat ja alaikäisten asiakkaiden huoltajat. Alle 15-vuotiaan "
            "tiedot antaa huoltaja.",
            "recipients": "Kirjastojärjestelmän (Koha) ylläpito- ja palvelintoimittaja henkilötietojen "
            "käsittelijänä tietosuoja-asetuksen 28 artiklan mukaisen sopimuksen perusteella. Maksamattomat "
            "korvaukset siirretään perintätoimistolle. Kansalliskirjaston Finna-verkkokirjasto näyttää "
            "kirjautuneelle asiakkaalle hänen omat lainansa ja varauksensa; muille tietoja ei luovuteta.",
            "retention": "Tiedot säilytetään niin kauan kuin asiakkuus on voimassa: asiakkuus ei pääty "
            "automaattisesti, vaan vain kun asiakas pyytää sen lopettamista. Palautettuja lainoja ei säilytetä "
            "asiakkaan tiedoissa, ellei asiakas ole itse valinnut lainahistorian tallentamista, ja paperinen "
            "asiakastietolomake hävitetään tietosuojajätteenä heti tallennuksen jälkeen. Käyttökiellon merkintä "
            "poistetaan kiellon päätyttyä, ja käsittelyloki säilytetään kaksi vuotta.",
            "security_measures": "Kirjastojärjestelmää voi käyttää vain henkilökohtaisilla tunnuksilla ja vain "
            "kirjaston sallituista verkoista (IP-osoiterajaus). Henkilötunnukset säilytetään salattuina erillisessä "
            "tietovarastossa (sotusiilo), jota vain laskutusta hoitavat voivat käyttää, ja jokainen katselu "
            "perustellaan. Jokaisesta asiakastietojen katselusta ja muutoksesta jää merkintä käsittelylokiin, ja "
            "koko henkilökunta on allekirjoittanut vaitiolositoumuksen.",
        },
        "sv": {
            "purpose": "Att sköta och övervaka utlåningen, kontakta låntagaren i kundtjänstärenden, föra "
            "lånestatistik och övervaka användningen av biblioteket. Personbeteckningen används endast för att "
            "fakturera material som inte lämnats tillbaka eller som skadats, eller när identiteten av annan orsak "
            "måste kontrolleras.",
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): det allmänna "
            "bibliotekets uppgifter enligt lagen om allmänna bibliotek (1492/2016, 6 §) och förbud att använda "
            "biblioteket enligt 15 § i samma lag. Bokföringen av fakturor och avgifter är en rättslig förpliktelse "
            "(artikel 6.1 c, bokföringslagen 1336/1997). Personbeteckningen behandlas enligt 29 § i dataskyddslagen "
            "(1050/2018) endast när låntagaren måste identifieras entydigt.",
            "data_categories": "Namn, adress, telefonnummer, e-postadress, födelsedatum, språk, lånekortets nummer "
            "och PIN-kod, hembibliotek samt lån, reservationer och avgifter. Personalens anteckningar, "
            "minderårigas vårdnadshavare, uppgifter om förmynderskap eller intressebevakning och om "
            "tillgänglighetstjänster (känsliga uppgifter) samt förbud att använda biblioteket. Personbeteckningen "
            "förvaras krypterad och åtskild från övriga uppgifter.",
            "people_categories": "Bibliotekets låntagare och vårdnadshavare till minderåriga låntagare. För barn "
            "under 15 år lämnar vårdnadshavaren uppgifterna.",
            "recipients": "Leverantören av bibliotekssystemet (Koha) och dess servrar, som personuppgiftsbiträde "
            "enligt ett avtal enligt artikel 28 i dataskyddsförordningen. Obetalda ersättningar överlämnas till "
            "en inkassobyrå. Nationalbibliotekets webbibliotek Finna visar en inloggad låntagare hans eller hennes "
            "egna lån och reservationer; i övrigt lämnas uppgifterna inte ut.",
            "retention": "Uppgifterna sparas så länge kundrelationen består: den upphör inte automatiskt, utan "
            "endast när låntagaren ber om det. Återlämnade lån sparas inte bland låntagarens uppgifter om inte "
            "låntagaren själv har valt att spara sin lånehistorik, och den ifyllda blanketten förstörs som "
            "dataskyddsavfall när uppgifterna har registrerats. Anteckningen om förbud att använda biblioteket tas "
            "bort när förbudet upphör, och behandlingsloggen sparas i två år.",
            "security_measures": "Bibliotekssystemet kan användas endast med personliga användarnamn och endast "
            "från bibliotekets tillåtna nätverk (IP-begränsning). Personbeteckningarna förvaras krypterade i ett "
            "separat register som endast de som sköter faktureringen kommer åt, och varje visning ska motiveras. "
            "Varje visning och ändring av låntagaruppgifter antecknas i behandlingsloggen, och all personal har "
            "undertecknat en tystnadsförbindelse.",
        },
        "en": {
            "purpose": "Running and supervising lending, contacting patrons about their library matters, lending "
            "statistics and supervising the use of the library. The personal identity code is used only to bill "
            "for material that was not returned or was damaged, or when a patron's identity must otherwise be "
            "checked.",
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the tasks of a public "
            "library under the Public Libraries Act (1492/2016, section 6) and library-use bans under section 15 "
            "of the same Act. Bookkeeping of invoices and fees is a legal obligation (Art. 6(1)(c), Accounting Act "
            "1336/1997). The identity code is processed under section 29 of the Data Protection Act (1050/2018) "
            "only when a patron must be identified unambiguously.",
            "data_categories": "Name, address, phone number, email address, date of birth, language, library card "
            "number and PIN, home library, and loans, holds and fees. Staff notes, a minor's guardians, "
            "guardianship or trusteeship and accessibility services (sensitive data), and library-use bans. The "
            "personal identity code is kept encrypted and apart from everything else.",
            "people_categories": "The library's patrons and the guardians of patrons under 18. For a child under "
            "15 the guardian gives the data.",
            "recipients": "The provider of the library system (Koha) and its servers, as a processor under a "
            "contract according to GDPR Art. 28. Unpaid charges are passed to a debt collection agency. The "
            "National Library's Finna web library shows logged-in patrons their own loans and holds; nobody else "
            "is given the data.",
            "retention": "The data is kept as long as the patronage lasts: it does not end automatically, only when "
            "the patron asks. Returned loans are not kept with the patron's data unless the patron has chosen to "
            "keep a loan history, and the paper registration form is destroyed as confidential waste once its data "
            "is entered. A library-use ban's mark is removed when the ban ends, and the access log is kept for two "
            "years.",
            "security_measures": "The library system can be used only with personal accounts and only from the "
            "library's allowed networks (IP allow-list). Identity codes are kept encrypted in a separate store "
            "that only billing staff can use, and every viewing needs a stated reason. Every view and change of "
            "patron data is recorded in the access log, and all staff have signed a confidentiality agreement.",
        },
    },
    Register.INTERLIBRARY_LOANS: {
        "fi": {
            "purpose": "Kaukolainojen tilaaminen asiakkaan pyynnöstä muista kirjastoista, niiden saapumisesta "
            "ilmoittaminen ja kaukolainamaksujen laskutus.",
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "yleisen kirjaston tehtävät laissa yleisistä kirjastoista (1492/2016, 6 §).",
            "data_categories": "Asiakkaan nimi, kirjastokortin numero ja yhteystiedot, tilattu aineisto, tilauksen, "
            "saapumisen ja palautuksen päivämäärät sekä kaukolainamaksut.",
            "people_categories": "Asiakkaat, jotka ovat tilanneet kaukolainoja.",
            "recipients": "Tilaukset käsitellään Web-Kake-kaukolainajärjestelmässä, jonka toimittaja on "
            "henkilötietojen käsittelijä. Lainaavalle kirjastolle kerrotaan vain tilaava kirjasto, ei asiakkaan "
            "tietoja.",
            "transfers": "Henkilötietoja ei siirretä EU:n tai Euroopan talousalueen ulkopuolelle. Kun aineistoa "
            "tilataan ulkomailta, lainaava kirjasto saa vain tilaavan kirjaston tiedot.",
            "retention": "Tilaustiedot säilytetään, kunnes kaukolaina on palautettu ja maksut maksettu, ja ne "
            "poistetaan kolmen kuukauden kuluessa sen jälkeen. Tilastoihin jää vain tilausten määrä.",
            "security_measures": "Kaukolainajärjestelmään kirjaudutaan henkilökohtaisilla tunnuksilla, ja sitä "
            "käyttää vain kaukopalvelua hoitava henkilökunta.",
        },
        "sv": {
            "purpose": "Att på låntagarens begäran beställa fjärrlån från andra bibliotek, meddela när de har kommit "
            "och fakturera avgifterna för fjärrlån.",
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): det allmänna "
            "bibliotekets uppgifter enligt lagen om allmänna bibliotek (1492/2016, 6 §).",
            "data_categories": "Låntagarens namn, lånekortets nummer och kontaktuppgifter, det beställda "
            "materialet, datum för beställning, ankomst och återlämning samt avgifter för fjärrlån.",
            "people_categories": "Låntagare som har beställt fjärrlån.",
            "recipients": "Beställningarna hanteras i fjärrlånesystemet Web-Kake, vars leverantör är "
            "personuppgiftsbiträde. Det långivande biblioteket får veta vilket bibliotek som beställer, inte vem "
            "låntagaren är.",
            "transfers": "Personuppgifter överförs inte till länder utanför EU eller Europeiska ekonomiska "
            "samarbetsområdet. När material beställs från utlandet får det långivande biblioteket endast det "
            "beställande bibliotekets uppgifter.",
            "retention": "Beställningsuppgifterna sparas tills fjärrlånet har lämnats tillbaka och avgifterna "
            "betalats, och de raderas inom tre månader därefter. I statistiken finns endast antalet beställningar.",
            "security_measures": "Fjärrlånesystemet används med personliga användarnamn och endast av den personal "
            "som sköter fjärrlånen.",
        },
        "en": {
            "purpose": "Ordering interlibrary loans from other libraries at the patron's request, telling the "
            "patron when they arrive and billing interlibrary loan fees.",
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the tasks of a public "
            "library under the Public Libraries Act (1492/2016, section 6).",
            "data_categories": "The patron's name, library card number and contact details, the material ordered, "
            "the dates of ordering, arrival and return, and interlibrary loan fees.",
            "people_categories": "Patrons who have ordered interlibrary loans.",
            "recipients": "Orders are handled in the Web-Kake interlibrary loan system, whose provider is a "
            "processor. The lending library is told which library orders, not who the patron is.",
            "transfers": "No personal data is transferred outside the EU or the European Economic Area. When "
            "material is ordered from abroad, the lending library gets only the ordering library's details.",
            "retention": "Order details are kept until the loan is returned and the fees are paid, and deleted "
            "within three months after that. Statistics keep only the number of orders.",
            "security_measures": "The interlibrary loan system is used with personal accounts, only by the staff "
            "who handle interlibrary loans.",
        },
    },
    Register.NEWSLETTER: {
        "fi": {
            "purpose": "Kirjaston uutiskirjeen lähettäminen sen tilanneille.",
            "legal_basis": "Tilaajan suostumus (tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta). Suostumuksen "
            "voi perua milloin tahansa uutiskirjeen peruutuslinkillä tai kirjastossa.",
            "data_categories": "Vain sähköpostiosoite ja tilauksen (suostumuksen) päivämäärä.",
            "people_categories": "Uutiskirjeen tilaajat.",
            "recipients": "Uutiskirjeen lähetyspalvelun toimittaja henkilötietojen käsittelijänä. Osoitteita ei "
            "luovuteta muille.",
            "transfers": "Tietoja ei siirretä EU:n tai Euroopan talousalueen ulkopuolelle; lähetyspalvelu käsittelee "
            "osoitteet EU:ssa.",
            "retention": "Sähköpostiosoite poistetaan, kun tilaaja peruu tilauksen.",
            "security_measures": "Osoitteisiin pääsevät vain uutiskirjeen lähettäjät henkilökohtaisilla tunnuksilla. "
            "Uutiskirje lähetetään niin, etteivät vastaanottajat näe toistensa osoitteita.",
        },
        "sv": {
            "purpose": "Att skicka bibliotekets nyhetsbrev till dem som har beställt det.",
            "legal_basis": "Prenumerantens samtycke (artikel 6.1 a i dataskyddsförordningen). Samtycket kan "
            "återkallas när som helst via länken i nyhetsbrevet eller på biblioteket.",
            "data_categories": "Endast e-postadressen och datum för beställningen (samtycket).",
            "people_categories": "Prenumeranter på nyhetsbrevet.",
            "recipients": "Leverantören av utskickstjänsten, som personuppgiftsbiträde. Adresserna lämnas inte ut "
            "till andra.",
            "transfers": "Uppgifterna överförs inte till länder utanför EU eller Europeiska ekonomiska "
            "samarbetsområdet; utskickstjänsten behandlar adresserna inom EU.",
            "retention": "E-postadressen raderas när prenumeranten avslutar prenumerationen.",
            "security_measures": "Endast de som skickar nyhetsbrevet kommer åt adresserna, med personliga "
            "användarnamn. Nyhetsbrevet skickas så att mottagarna inte ser varandras adresser.",
        },
        "en": {
            "purpose": "Sending the library's newsletter to those who have subscribed to it.",
            "legal_basis": "The subscriber's consent (GDPR Art. 6(1)(a)). Consent can be withdrawn at any time with "
            "the link in the newsletter or at the library.",
            "data_categories": "Only the email address and the date of subscribing (consent).",
            "people_categories": "Newsletter subscribers.",
            "recipients": "The provider of the mailing service, as a processor. The addresses are not given to "
            "anyone else.",
            "transfers": "The data is not transferred outside the EU or the European Economic Area; the mailing "
            "service processes the addresses in the EU.",
            "retention": "The email address is deleted when the subscriber unsubscribes.",
            "security_measures": "Only the staff who send the newsletter can reach the addresses, with personal "
            "accounts. The newsletter is sent so that recipients do not see each other's addresses.",
        },
    },
    Register.HOME_SERVICE: {
        "fi": {
            "purpose": "{home_service}: kirjastoaineiston toimittaminen kotiin asiakkaille, jotka eivät iän, "
            "sairauden tai vamman vuoksi pääse itse kirjastoon.",
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "yleisen kirjaston tehtävät laissa yleisistä kirjastoista (1492/2016, 6 §). Syy palvelun tarpeeseen "
            "kirjataan vain asiakkaan nimenomaisella suostumuksella (9 artiklan 2 kohdan a alakohta).",
            "data_categories": "Nimi, osoite, puhelinnumero, lukutoiveet, toimitetut aineistot ja toimituspäivät, "
            "mahdollinen yhteyshenkilö (esim. omainen) sekä asiakkaan suostumuksella syy palvelun tarpeeseen.",
            "people_categories": "Kotipalvelun asiakkaat ja heidän yhteyshenkilönsä.",
            "recipients": "Aineiston kotiin vievä kuljettaja saa vain nimen, osoitteen ja toimitettavat aineistot. "
            "Muille tietoja ei luovuteta.",
            "retention": "Tiedot säilytetään niin kauan kuin asiakas käyttää palvelua. Kun palvelu päättyy, "
            "paperitulosteet hävitetään tietosuojajätteenä ja kotipalvelumerkintä poistetaan "
            "kirjastojärjestelmästä.",
            "security_measures": "Kotipalvelun asiakastiedot säilytetään paperitulosteina kansiossa "
            "kulunvalvotussa tilassa, ja niitä käsittelee vain kotipalvelun henkilökunta.",
        },
        "sv": {
            "purpose": "{home_service}: att leverera biblioteksmaterial hem till låntagare som på grund av ålder, "
            "sjukdom eller funktionsnedsättning inte själva kan komma till biblioteket.",
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): det allmänna "
            "bibliotekets uppgifter enligt lagen om allmänna bibliotek (1492/2016, 6 §). Orsaken till behovet av "
            "tjänsten antecknas endast med låntagarens uttryckliga samtycke (artikel 9.2 a).",
            "data_categories": "Namn, adress, telefonnummer, läsönskemål, levererat material och leveransdagar, en "
            "eventuell kontaktperson (t.ex. en anhörig) samt, med låntagarens samtycke, orsaken till behovet av "
            "tjänsten.",
            "people_categories": "Hemservicens låntagare och deras kontaktpersoner.",
            "recipients": "Den som kör ut materialet får endast namn, adress och det material som ska levereras. "
            "Uppgifterna lämnas inte ut till andra.",
            "retention": "Uppgifterna sparas så länge låntagaren använder tjänsten. När tjänsten upphör förstörs "
            "utskrifterna som dataskyddsavfall och anteckningen om hemservice tas bort ur bibliotekssystemet.",
            "security_measures": "Hemservicens låntagaruppgifter förvaras som utskrifter i en pärm i ett "
            "passerkontrollerat utrymme och hanteras endast av hemservicens personal.",
        },
        "en": {
            "purpose": "{home_service}: delivering library material to the homes of patrons who cannot come to the "
            "library themselves because of age, illness or disability.",
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the tasks of a public "
            "library under the Public Libraries Act (1492/2016, section 6). The reason for needing the service is "
            "recorded only with the patron's explicit consent (Art. 9(2)(a)).",
            "data_categories": "Name, address, phone number, reading wishes, material delivered and delivery dates, "
            "a contact person if any (e.g. a relative) and, with the patron's consent, the reason for needing the "
            "service.",
            "people_categories": "Home service patrons and their contact people.",
            "recipients": "The driver who delivers the material gets only the name, the address and the material "
            "to deliver. Nobody else is given the data.",
            "retention": "The data is kept as long as the patron uses the service. When the service ends, the "
            "printouts are destroyed as confidential waste and the home service mark is removed from the library "
            "system.",
            "security_measures": "Home service patron details are kept as printouts in a binder in an "
            "access-controlled room, handled only by the home service staff.",
        },
    },
    Register.CCTV: {
        "fi": {
            "purpose": "Kirjastossa asioivien ja työskentelevien turvallisuuden varmistaminen, omaisuuden "
            "suojaaminen sekä turvallisuutta ja omaisuutta vaarantavien tilanteiden ja rikosten ehkäiseminen ja "
            "selvittäminen.",
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "kirjaston tilojen ja asiakkaiden turvallisuus. Työntekijöiden turvallisuudesta huolehtiminen on "
            "työnantajan lakisääteinen velvoite (6 artiklan 1 kohdan c alakohta, työturvallisuuslaki 738/2002 ja "
            "laki yksityisyyden suojasta työelämässä 759/2004, 16 §).",
            "data_categories": "Valvontakameroiden kuvatallenteet (kuva ilman ääntä), kuvattu valvonta-alue sekä "
            "kuvan päivämäärä ja kellonaika.",
            "people_categories": "Kirjastossa asioivat ja työskentelevät sekä muut valvotuilla alueilla liikkuvat "
            "henkilöt.",
            "recipients": "Tallenteita luovutetaan vain poliisille rikoksen selvittämiseksi. Valvontajärjestelmän "
            "huoltoyritys on henkilötietojen käsittelijä.",
            "retention": "Tallenteet poistuvat automaattisesti 2-4 viikon kuluttua tallentuneen kuvamateriaalin "
            "määrästä riippuen. Tallenne säilytetään pidempään vain, jos sitä "
            "tarvitaan rikoksen tai vahingon selvittämiseen.",
            "security_measures": "Tallennin on lukitussa tilassa, ja tallenteita voivat katsoa vain nimetyt "
            "henkilöt; katselut ja luovutukset kirjataan. Kameravalvonnasta kerrotaan kyltein kirjaston "
            "sisäänkäynneillä.",
        },
        "sv": {
            "purpose": "Att trygga säkerheten för dem som besöker och arbetar i biblioteket, skydda egendom samt "
            "förebygga och utreda situationer och brott som hotar säkerhet och egendom.",
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): säkerheten i "
            "bibliotekets lokaler och för dess besökare. Att sörja för de anställdas säkerhet är arbetsgivarens "
            "rättsliga förpliktelse (artikel 6.1 c, arbetarskyddslagen 738/2002 och lagen om integritetsskydd i "
            "arbetslivet 759/2004, 16 §).",
            "data_categories": "Övervakningskamerornas bildupptagningar (bild utan ljud), det övervakade området samt "
            "bildens datum och klockslag.",
            "people_categories": "Besökare och personal i biblioteket samt andra som rör sig i de övervakade områdena.",
            "recipients": "Upptagningar lämnas endast ut till polisen för utredning av brott. Företaget som servar "
            "övervakningssystemet är personuppgiftsbiträde.",
            "retention": "Upptagningarna raderas automatiskt efter 2-4 veckor beroende på mängden inspelat "
            "material. En upptagning sparas längre endast om den behövs för att utreda ett "
            "brott eller en skada.",
            "security_measures": "Inspelningsutrustningen finns i ett låst utrymme och endast utsedda personer får "
            "titta på upptagningarna; visningar och utlämnanden antecknas. Skyltar vid bibliotekets entréer "
            "informerar om kamerabevakningen.",
        },
        "en": {
            "purpose": "Keeping the people who visit and work in the library safe, protecting property, and "
            "preventing and investigating incidents and crimes that endanger safety or property.",
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the safety of the library "
            "premises and visitors. Looking after employees' safety is the employer's legal obligation "
            "(Art. 6(1)(c), Occupational Safety and Health Act 738/2002 and Act on the Protection of Privacy in "
            "Working Life 759/2004, section 16).",
            "data_categories": "Video recordings of the surveillance cameras (picture without sound), the area "
            "recorded, and the date and time of the picture.",
            "people_categories": "Visitors and staff of the library and anyone else in the monitored areas.",
            "recipients": "Recordings are given only to the police to investigate a crime. The company that "
            "maintains the surveillance system is a processor.",
            "retention": "Recordings are deleted automatically after 2-4 weeks, depending on how much is recorded. "
            "A recording is kept longer only when it is needed to investigate a crime or damage.",
            "security_measures": "The recorder is in a locked room and only designated people may view the "
            "recordings; every viewing and disclosure is recorded. Signs at the library entrances tell visitors "
            "about the cameras.",
        },
    },
}

# Where a Swedish consortium's description differs: Swedish law, the personnummer, Libris, Boken kommer.
SWEDEN_CHANGES: dict[str, Texts] = {
    Register.LIBRARY_SYSTEM: {
        "fi": {
            "purpose": "Lainauksen hoitaminen ja valvonta, yhteydenpito asiakkaaseen lainoihin ja varauksiin "
            "liittyvissä asioissa, lainaajatilastot sekä kirjaston käytön valvonta. Henkilönumeroa (personnummer) "
            "käytetään vain palauttamattoman tai turmeltuneen aineiston laskutukseen tai kun henkilöllisyys on "
            "muusta syystä tarkistettava.",
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "yleisen kirjaston tehtävät Ruotsin kirjastolain (bibliotekslag 2013:801) mukaan, Ruotsin "
            "tietosuojalain (2018:218) 2 luvun 2 §:n nojalla. Laskujen ja maksujen kirjanpito on lakisääteinen "
            "velvoite (6 artiklan 1 kohdan c alakohta, laki kunnallisesta kirjanpidosta 2018:597). Henkilönumeroa "
            "käsitellään saman tietosuojalain 3 luvun 10 §:n mukaan vain, kun luotettava tunnistaminen on "
            "tarpeen, ja lainatiedot ovat salassa pidettäviä (offentlighets- och sekretesslag 2009:400, 40 luku "
            "3 §).",
            "data_categories": "Nimi, osoite, puhelinnumero, sähköpostiosoite, syntymäaika, asiointikieli, "
            "kirjastokortin numero ja PIN-koodi, kotikirjasto sekä lainat, varaukset ja maksut. Henkilökunnan "
            "huomautukset, alaikäisen huoltajat, tieto edunvalvojasta ja saavutettavuuspalveluista kuten "
            "Legimuksesta (arkaluonteisia) sekä syyttäjän päätökset kirjaston käyttökiellosta (tillträdesförbud). "
            "Henkilönumero säilytetään salattuna erillään muista tiedoista.",
            "people_categories": "Kirjaston asiakkaat ja alle 18-vuotiaiden asiakkaiden huoltajat, joille "
            "muistutukset lähetetään, kunnes lapsi täyttää 18 vuotta.",
            "recipients": "Kirjastojärjestelmän (Koha) ylläpito- ja palvelintoimittaja henkilötietojen "
            "käsittelijänä tietosuoja-asetuksen 28 artiklan mukaisen sopimuksen perusteella. Maksamattomat "
            "korvaukset siirretään perintäyhtiölle. Tiedot siitä, mitä asiakas lainaa, ovat salassa pidettäviä "
            "eikä niitä luovuteta.",
            "retention": "Tiedot säilytetään niin kauan kuin asiakkuus on voimassa: asiakkuus ei pääty "
            "automaattisesti, vaan vain kun asiakas pyytää sen lopettamista. Palautettuja lainoja ei säilytetä, "
            "ellei asiakas ole itse valinnut lainahistorian tallentamista, ja täytetty lomake hävitetään "
            "tallennuksen jälkeen. Käyttökiellon merkintä poistetaan kiellon päätyttyä, ja käsittelyloki "
            "säilytetään kaksi vuotta.",
            "security_measures": "Kirjastojärjestelmää voi käyttää vain henkilökohtaisilla tunnuksilla ja vain "
            "kirjaston sallituista verkoista (IP-osoiterajaus). Henkilönumerot säilytetään salattuina erillisessä "
            "tietovarastossa, jota vain laskutusta hoitavat voivat käyttää, ja jokainen katselu perustellaan. "
            "Jokaisesta asiakastietojen katselusta ja muutoksesta jää merkintä käsittelylokiin, ja koko "
            "henkilökunta on allekirjoittanut vaitiolositoumuksen.",
        },
        "sv": {
            "purpose": "Att sköta och övervaka utlåningen, kontakta låntagaren i ärenden om lån och reservationer, "
            "föra lånestatistik och övervaka användningen av biblioteket. Personnumret används endast för att "
            "fakturera material som inte lämnats tillbaka eller som skadats, eller när identiteten av annan "
            "anledning behöver kontrolleras.",
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): folkbibliotekets "
            "uppgifter enligt bibliotekslagen (2013:801), med stöd av 2 kap. 2 § lagen (2018:218) med "
            "kompletterande bestämmelser till EU:s dataskyddsförordning. Bokföringen av fakturor och avgifter är "
            "en rättslig förpliktelse (artikel 6.1 c, lagen (2018:597) om kommunal bokföring och redovisning). "
            "Personnumret behandlas enligt 3 kap. 10 § samma lag endast när en säker identifiering behövs, och "
            "uppgifter om vad en låntagare lånar omfattas av sekretess enligt 40 kap. 3 § offentlighets- och "
            "sekretesslagen (2009:400).",
            "data_categories": "Namn, adress, telefonnummer, e-postadress, födelsedatum, språk, lånekortets nummer "
            "och PIN-kod, hembibliotek samt lån, reservationer och avgifter. Personalens anteckningar, "
            "minderårigas vårdnadshavare, uppgifter om god man eller förvaltare och om tillgänglighetstjänster som "
            "Legimus (känsliga uppgifter) samt åklagarens beslut om tillträdesförbud. Personnumret förvaras "
            "krypterat och åtskilt från övriga uppgifter.",
            "people_categories": "Bibliotekets låntagare och vårdnadshavare till låntagare under 18 år, som får "
            "påminnelserna tills barnet fyller 18.",
            "recipients": "Leverantören av bibliotekssystemet (Koha) och dess servrar, som personuppgiftsbiträde "
            "enligt ett avtal enligt artikel 28 i dataskyddsförordningen. Obetalda ersättningar överlämnas till "
            "ett inkassobolag. Uppgifter om vad en låntagare lånar omfattas av sekretess och lämnas inte ut.",
            "retention": "Uppgifterna sparas så länge kundrelationen består: den upphör inte automatiskt, utan "
            "endast när låntagaren ber om det. Återlämnade lån sparas inte om inte låntagaren själv har valt att "
            "spara sin lånehistorik, och den ifyllda blanketten förstörs när uppgifterna har registrerats. "
            "Anteckningen om ett tillträdesförbud tas bort när förbudet upphör, och behandlingsloggen sparas i två "
            "år.",
            "security_measures": "Bibliotekssystemet kan användas endast med personliga användarnamn och endast "
            "från bibliotekets tillåtna nätverk (IP-begränsning). Personnumren förvaras krypterade i ett separat "
            "register som endast de som sköter faktureringen kommer åt, och varje visning ska motiveras. Varje "
            "visning och ändring av låntagaruppgifter antecknas i behandlingsloggen, och all personal har "
            "undertecknat en tystnadsförbindelse.",
        },
        "en": {
            "purpose": "Running and supervising lending, contacting patrons about their loans and holds, lending "
            "statistics and supervising the use of the library. The personal identity number (personnummer) is "
            "used only to bill for material that was not returned or was damaged, or when a patron's identity must "
            "otherwise be checked.",
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the tasks of a public "
            "library under the Swedish Library Act (bibliotekslag 2013:801), with chapter 2 section 2 of the "
            "Swedish Data Protection Act (2018:218). Bookkeeping of invoices and fees is a legal obligation "
            "(Art. 6(1)(c), Municipal Accounting Act 2018:597). The personal identity number is processed under "
            "chapter 3 section 10 of the same Act only when secure identification is needed, and loan records are "
            "confidential under chapter 40 section 3 of the Public Access to Information and Secrecy Act "
            "(2009:400).",
            "data_categories": "Name, address, phone number, email address, date of birth, language, library card "
            "number and PIN, home library, and loans, holds and fees. Staff notes, a minor's guardians, a trustee "
            "or administrator and accessibility services such as Legimus (sensitive data), and a prosecutor's "
            "access prohibitions (tillträdesförbud). The personal identity number is kept encrypted and apart "
            "from everything else.",
            "people_categories": "The library's patrons and the guardians of patrons under 18, who receive the "
            "reminders until the child turns 18.",
            "recipients": "The provider of the library system (Koha) and its servers, as a processor under a "
            "contract according to GDPR Art. 28. Unpaid charges are passed to a debt collection agency. What a "
            "patron borrows is confidential and is not disclosed.",
            "retention": "The data is kept as long as the patronage lasts: it does not end automatically, only when "
            "the patron asks. Returned loans are not kept unless the patron has chosen to keep a loan history, and "
            "the registration form is destroyed once its data is entered. An access prohibition's mark is removed "
            "when it ends, and the access log is kept for two years.",
            "security_measures": "The library system can be used only with personal accounts and only from the "
            "library's allowed networks (IP allow-list). Identity numbers are kept encrypted in a separate store "
            "that only billing staff can use, and every viewing needs a stated reason. Every view and change of "
            "patron data is recorded in the access log, and all staff have signed a confidentiality agreement.",
        },
    },
    Register.INTERLIBRARY_LOANS: {
        "fi": {
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "yleisen kirjaston tehtävät Ruotsin kirjastolain (bibliotekslag 2013:801) mukaan.",
            "recipients": "Tilaukset tehdään Ruotsin kuninkaallisen kirjaston Libris-kaukolainapalvelussa. "
            "Lainaavalle kirjastolle kerrotaan vain tilaava kirjasto, ei asiakkaan tietoja.",
        },
        "sv": {
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): folkbibliotekets "
            "uppgifter enligt bibliotekslagen (2013:801).",
            "recipients": "Beställningarna görs i Libris fjärrlån, som Kungliga biblioteket tillhandahåller. Det "
            "långivande biblioteket får veta vilket bibliotek som beställer, inte vem låntagaren är.",
        },
        "en": {
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the tasks of a public "
            "library under the Swedish Library Act (bibliotekslag 2013:801).",
            "recipients": "Orders are placed in Libris interlibrary loans, provided by the National Library of "
            "Sweden. The lending library is told which library orders, not who the patron is.",
        },
    },
    Register.HOME_SERVICE: {
        "fi": {
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "Ruotsin kirjastolain (bibliotekslag 2013:801) 4 §:n mukaan kirjastojen on kiinnitettävä erityistä "
            "huomiota vammaisiin henkilöihin. Syy palvelun tarpeeseen kirjataan vain asiakkaan nimenomaisella "
            "suostumuksella (9 artiklan 2 kohdan a alakohta).",
        },
        "sv": {
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): enligt 4 § "
            "bibliotekslagen (2013:801) ska biblioteken ägna särskild uppmärksamhet åt personer med "
            "funktionsnedsättning. Orsaken till behovet av tjänsten antecknas endast med låntagarens uttryckliga "
            "samtycke (artikel 9.2 a).",
        },
        "en": {
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): under section 4 of the "
            "Swedish Library Act (bibliotekslag 2013:801) libraries pay special attention to people with "
            "disabilities. The reason for needing the service is recorded only with the patron's explicit consent "
            "(Art. 9(2)(a)).",
        },
    },
    Register.CCTV: {
        "fi": {
            "legal_basis": "Yleisen edun mukainen tehtävä (tietosuoja-asetuksen 6 artiklan 1 kohdan e alakohta): "
            "kirjaston tilojen, asiakkaiden ja henkilökunnan turvallisuus. Kameravalvonnasta säädetään Ruotsin "
            "kameravalvontalaissa (kamerabevakningslag 2018:1200).",
        },
        "sv": {
            "legal_basis": "Uppgift av allmänt intresse (artikel 6.1 e i dataskyddsförordningen): säkerheten i "
            "bibliotekets lokaler för besökare och personal. Kamerabevakningen sker enligt "
            "kamerabevakningslagen (2018:1200).",
        },
        "en": {
            "legal_basis": "A task carried out in the public interest (GDPR Art. 6(1)(e)): the safety of the library "
            "premises, visitors and staff. Camera surveillance follows the Swedish Camera Surveillance Act "
            "(kamerabevakningslag 2018:1200).",
        },
    },
}


def register_texts(*, jurisdiction: str, register: str, language: str, spec: ControllerSpec) -> dict[str, str]:
    """Every field of one register description in one language."""
    texts = {"transfers": NO_TRANSFERS[language], **FINLAND[register][language]}
    if jurisdiction == Jurisdiction.SWEDEN:
        texts.update(SWEDEN_CHANGES.get(register, {}).get(language, {}))
    texts = {field: text.format(home_service=spec.home_service[language]) for field, text in texts.items()}
    return {
        "controller": spec.controller[language],
        "contact_person": spec.contact_person[language],
        "dpo_contact": spec.dpo_contact[language],
        **texts,
    }


def seed_register_descriptions(consortium: Consortium, *, sync: Sync) -> None:
    """The five register descriptions of a demo consortium in fi/sv/en, written only where they differ."""
    spec = CONTROLLERS.get(consortium.slug)
    if spec is None:
        return
    for register in Register:
        description, _created = sync(
            RegisterDescription,
            {"consortium": consortium, "register": register},
            {"retention_days": RETENTION_DAYS.get(register)},
        )
        for language in LANGUAGES:
            values = register_texts(
                jurisdiction=consortium.jurisdiction, register=register, language=language, spec=spec
            )
            sync(RegisterDescriptionText, {"description": description, "language": language}, values)

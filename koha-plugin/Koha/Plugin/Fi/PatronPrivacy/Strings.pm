package Koha::Plugin::Fi::PatronPrivacy::Strings;

# The configure page's text in the staff user's language (fi, sv, en). Koha's own translation tool
# does not reach plugin templates, so the three languages live here.

use strict;
use warnings;
use utf8;

# Koha language codes (fi-FI, sv-SE, en, ...) -> fi | sv | en.
sub short_language {
    my ($lang) = @_;
    $lang = lc( $lang // '' );
    return 'fi' if $lang =~ /^fi/;
    return 'sv' if $lang =~ /^sv/;
    return 'en';
}

my %STRINGS = (
    en => {
        title               => 'Patron privacy: configuration',
        intro               => 'Connects Koha to the patron privacy service: patron views in the staff interface go to its access log and patron pages show its privacy panel.',
        service_url         => 'Service address',
        service_url_help    => 'For example https://privacy.library.example',
        api_key             => 'API key',
        api_key_help        => 'The machine API key made for this Koha in the service. Leave empty to keep the stored key (only when the address stays the same).',
        api_key_stored      => 'Stored key ends in',
        save                => 'Test and save',
        saved               => 'The service answered and the settings were saved.',
        consortium          => 'Consortium in the service',
        queue               => 'View queue',
        queue_length        => 'Views waiting to be sent',
        queue_oldest        => 'Oldest waiting view',
        queue_dead          => 'Views the service refused',
        last_error          => 'Last error from the service (HTTP status)',
        none                => 'none',
        plugin_version      => 'Plugin version',
        err_bad_url         => 'The service address must be a web address such as https://privacy.library.example, without spaces.',
        err_not_https       => 'The service address must begin with https:// (http:// only to this server itself, for testing).',
        err_key_for_new_url => 'A new service address needs the API key typed again. Nothing was saved.',
        err_no_encryption   => 'Koha cannot encrypt the key: set encryption_key in koha-conf.xml. Nothing was saved.',
        err_no_key          => 'Give the API key.',
        err_bad_key         => 'The API key does not look like a key made by the service.',
        err_unreachable     => 'The service did not answer. Check the address and that Koha can reach it. Nothing was saved.',
        err_key_rejected    => 'The service refused the API key. Nothing was saved.',
        err_bad_answer      => 'The service gave an unexpected answer. Nothing was saved.',
        err_not_service     => 'The address does not answer as the patron privacy service. Nothing was saved.',
        err_plugin_unsupported => 'The service does not support this plugin version; upgrade the plugin. Oldest supported version:',
        err_missing_permissions => 'The API key lacks permissions the plugin needs:',
    },
    fi => {
        title               => 'Asiakastietosuoja: asetukset',
        intro               => 'Yhdistää Kohan asiakastietosuojapalveluun: henkilökunnan asiakasnäkymien avaukset kirjataan palvelun käyttölokiin ja asiakassivuilla näkyy tietosuojapaneeli.',
        service_url         => 'Palvelun osoite',
        service_url_help    => 'Esimerkiksi https://tietosuoja.kirjasto.example',
        api_key             => 'API-avain',
        api_key_help        => 'Palvelussa tälle Kohalle tehty koneavain. Jätä tyhjäksi, jos tallennettu avain säilytetään (vain kun osoite pysyy samana).',
        api_key_stored      => 'Tallennetun avaimen loppu',
        save                => 'Testaa ja tallenna',
        saved               => 'Palvelu vastasi ja asetukset tallennettiin.',
        consortium          => 'Kimppa palvelussa',
        queue               => 'Näkymäjono',
        queue_length        => 'Lähettämättömiä näkymiä',
        queue_oldest        => 'Vanhin lähettämätön näkymä',
        queue_dead          => 'Palvelun hylkäämiä näkymiä',
        last_error          => 'Palvelun viimeisin virhe (HTTP-tila)',
        none                => 'ei ole',
        plugin_version      => 'Liitännäisen versio',
        err_bad_url         => 'Palvelun osoitteen pitää olla verkko-osoite, kuten https://tietosuoja.kirjasto.example, ilman välilyöntejä.',
        err_not_https       => 'Palvelun osoitteen pitää alkaa https:// (http:// vain tähän palvelimeen itseensä, testausta varten).',
        err_key_for_new_url => 'Uuteen palvelun osoitteeseen pitää antaa API-avain uudelleen. Mitään ei tallennettu.',
        err_no_encryption   => 'Koha ei voi salata avainta: aseta encryption_key tiedostoon koha-conf.xml. Mitään ei tallennettu.',
        err_no_key          => 'Anna API-avain.',
        err_bad_key         => 'API-avain ei näytä palvelun tekemältä avaimelta.',
        err_unreachable     => 'Palvelu ei vastannut. Tarkista osoite ja että Koha saa siihen yhteyden. Mitään ei tallennettu.',
        err_key_rejected    => 'Palvelu hylkäsi API-avaimen. Mitään ei tallennettu.',
        err_bad_answer      => 'Palvelu vastasi odottamattomasti. Mitään ei tallennettu.',
        err_not_service     => 'Osoitteessa ei vastaa asiakastietosuojapalvelu. Mitään ei tallennettu.',
        err_plugin_unsupported => 'Palvelu ei tue tätä liitännäisen versiota; päivitä liitännäinen. Vanhin tuettu versio:',
        err_missing_permissions => 'API-avaimelta puuttuu liitännäisen tarvitsemia oikeuksia:',
    },
    sv => {
        title               => 'Låntagarintegritet: inställningar',
        intro               => 'Kopplar Koha till tjänsten för låntagarintegritet: personalens visningar av låntagare loggas i tjänstens åtkomstlogg och låntagarsidorna visar dess integritetspanel.',
        service_url         => 'Tjänstens adress',
        service_url_help    => 'Till exempel https://integritet.bibliotek.example',
        api_key             => 'API-nyckel',
        api_key_help        => 'Maskinnyckeln som skapats för denna Koha i tjänsten. Lämna tomt för att behålla den sparade nyckeln (bara när adressen inte ändras).',
        api_key_stored      => 'Den sparade nyckeln slutar på',
        save                => 'Testa och spara',
        saved               => 'Tjänsten svarade och inställningarna sparades.',
        consortium          => 'Konsortium i tjänsten',
        queue               => 'Visningskö',
        queue_length        => 'Visningar som väntar på att skickas',
        queue_oldest        => 'Äldsta väntande visning',
        queue_dead          => 'Visningar som tjänsten avvisade',
        last_error          => 'Senaste fel från tjänsten (HTTP-status)',
        none                => 'inget',
        plugin_version      => 'Insticksprogrammets version',
        err_bad_url         => 'Tjänstens adress måste vara en webbadress som https://integritet.bibliotek.example, utan mellanslag.',
        err_not_https       => 'Tjänstens adress måste börja med https:// (http:// endast till den här servern själv, för test).',
        err_key_for_new_url => 'En ny adress till tjänsten kräver att API-nyckeln anges igen. Inget sparades.',
        err_no_encryption   => 'Koha kan inte kryptera nyckeln: ange encryption_key i koha-conf.xml. Inget sparades.',
        err_no_key          => 'Ange API-nyckeln.',
        err_bad_key         => 'API-nyckeln ser inte ut som en nyckel från tjänsten.',
        err_unreachable     => 'Tjänsten svarade inte. Kontrollera adressen och att Koha når den. Inget sparades.',
        err_key_rejected    => 'Tjänsten avvisade API-nyckeln. Inget sparades.',
        err_bad_answer      => 'Tjänsten gav ett oväntat svar. Inget sparades.',
        err_not_service     => 'Adressen svarar inte som tjänsten för låntagarintegritet. Inget sparades.',
        err_plugin_unsupported => 'Tjänsten stöder inte denna version av insticksprogrammet; uppgradera det. Äldsta version som stöds:',
        err_missing_permissions => 'API-nyckeln saknar behörigheter som insticksprogrammet behöver:',
    },
);

sub strings {
    my ($lang) = @_;
    return $STRINGS{ short_language($lang) };
}

sub languages { return sort keys %STRINGS }

1;

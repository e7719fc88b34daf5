/*
 * Patron privacy panel for Koha's staff patron pages (Koha::Plugin::Fi::PatronPrivacy).
 *
 * Koha pastes the plugin's intranet_js into every staff page and has no hook for a patron view, so this
 * script decides by the address whether the page shows a patron. On such a page it does two things once:
 * it reports the view to the plugin's own route (which takes the staff user and address from Koha's
 * session, never from here, and queues the view until the service has it), and it draws the privacy
 * panel from the plugin's proxy of the service's privacy status (the browser never holds the API key).
 *
 * Plain ES2017 with no framework and no jQuery: the panel must not depend on what a Koha version loads.
 * Every value from the service goes into the page as text (textContent), never as markup, and a link
 * is only drawn when it is an http(s) address: the service is trusted for facts, not for code.
 *
 * ASCII only (letters beyond it as \u escapes): Koha pastes the file's bytes into a page it then encodes,
 * and a plugin cannot rely on how a Koha version decodes them.
 */
(function () {
  "use strict";

  // Koha's patron pages: members/<script>.pl and the checkout page.
  const PATRON_PAGE = /^\/cgi-bin\/koha\/(?:members\/([A-Za-z0-9_-]{1,60})|circ\/(circulation))\.pl$/;
  // Koha's borrowernumber is an int(11); 15 digits stay exact as a JavaScript number.
  const PATRON_ID = /^[1-9][0-9]{0,14}$/;
  const REQUEST_TIMEOUT_MS = 15000;

  const STRINGS = {
    fi: {
      heading: "Tietosuoja",
      loading: "Haetaan tietoja tietosuojapalvelusta\u2026",
      loaded: "Tietosuojatiedot haettu.",
      nothing: "Ei voimassa olevia kieltoja, arkaluonteisia merkint\u00f6j\u00e4 eik\u00e4 huoltajille menevi\u00e4 ilmoituksia.",
      noRestriction: "Ei voimassa olevaa k\u00e4ytt\u00f6- tai p\u00e4\u00e4sykieltoa.",
      restrictionsInForce: (count) => (count === 1 ? "1 kielto voimassa." : count + " kieltoa voimassa."),
      kinds: { library_use_ban: "Kirjaston k\u00e4ytt\u00f6kielto", access_prohibition: "P\u00e4\u00e4sykielto" },
      unknownKind: "Kielto",
      inForce: (from, to, library) => "voimassa " + from + "\u2013" + to + ", kirjasto " + library + ".",
      marksLabel: "Arkaluonteiset merkinn\u00e4t",
      marks: {
        behaviour: "k\u00e4ytt\u00e4ytyminen",
        guardianship: "huoltajuus",
        accessibility: "saavutettavuuspalvelut",
        trusteeship: "t\u00e4ysi-ik\u00e4isen edunvalvonta",
      },
      noticesLabel: "Ilmoitukset",
      noticesToGuardians: "menev\u00e4t huoltajille",
      loanHistoryLabel: "Lainahistoria",
      loanHistory: { 0: "s\u00e4ilytet\u00e4\u00e4n", 1: "kirjaston oletusk\u00e4yt\u00e4nt\u00f6", 2: "ei s\u00e4ilytet\u00e4" },
      chosenBy: {
        patron: (date) => "asiakkaan kirjattu valinta " + date,
        patron_online: (date) => "asiakkaan kirjattu valinta verkossa " + date,
        guardian: (date) => "huoltajan kirjattu valinta " + date,
      },
      notChosen: "ei asiakkaan kirjattu valinta",
      toConfirm: (age) => "vahvistettava (asiakas on t\u00e4ytt\u00e4nyt " + age + ")",
      processingRestricted: "K\u00e4sittely\u00e4 rajoitettu (GDPR 18 artikla): \u00e4l\u00e4 muuta t\u00e4m\u00e4n asiakkaan tietoja \u00e4l\u00e4k\u00e4 laskuta asiakasta.",
      patronLink: "Avaa asiakas tietosuojapalvelussa",
      billingLink: "Henkil\u00f6tunnus: palvelun laskutusn\u00e4kym\u00e4ss\u00e4",
      unavailable: "Tietosuojapalvelu ei vastaa; katselu on jonossa ja kirjataan lokiin my\u00f6hemmin.",
      unavailableNotQueued: "Tietosuojapalvelu ei vastaa.",
      notFound: "Asiakas ei ole viel\u00e4 tietosuojapalvelussa.",
      failed: (status) => "Tietosuojatietoja ei voitu n\u00e4ytt\u00e4\u00e4 (virhe " + status + ").",
      viewNotQueued: (status) => "Katselua ei voitu kirjata jonoon (virhe " + status + ").",
    },
    sv: {
      heading: "Dataskydd",
      loading: "H\u00e4mtar uppgifter fr\u00e5n dataskyddstj\u00e4nsten\u2026",
      loaded: "Dataskyddsuppgifterna har h\u00e4mtats.",
      nothing: "Inga f\u00f6rbud, inga k\u00e4nsliga anteckningar och inga meddelanden till v\u00e5rdnadshavare.",
      noRestriction: "Inget anv\u00e4ndnings- eller tilltr\u00e4desf\u00f6rbud g\u00e4ller.",
      restrictionsInForce: (count) => (count === 1 ? "1 f\u00f6rbud g\u00e4ller." : count + " f\u00f6rbud g\u00e4ller."),
      kinds: { library_use_ban: "Anv\u00e4ndningsf\u00f6rbud", access_prohibition: "Tilltr\u00e4desf\u00f6rbud" },
      unknownKind: "F\u00f6rbud",
      inForce: (from, to, library) => "g\u00e4ller " + from + "\u2013" + to + ", bibliotek " + library + ".",
      marksLabel: "K\u00e4nsliga anteckningar",
      marks: {
        behaviour: "beteende",
        guardianship: "v\u00e5rdnad och intressebevakning",
        accessibility: "tillg\u00e4nglighetstj\u00e4nster",
        trusteeship: "intressebevakning f\u00f6r vuxen",
      },
      noticesLabel: "Meddelanden",
      noticesToGuardians: "skickas till v\u00e5rdnadshavarna",
      loanHistoryLabel: "L\u00e5nehistorik",
      loanHistory: { 0: "sparas", 1: "bibliotekets standardinst\u00e4llning", 2: "sparas inte" },
      chosenBy: {
        patron: (date) => "l\u00e5ntagarens registrerade val " + date,
        patron_online: (date) => "l\u00e5ntagarens registrerade val p\u00e5 n\u00e4tet " + date,
        guardian: (date) => "v\u00e5rdnadshavarens registrerade val " + date,
      },
      notChosen: "inte l\u00e5ntagarens registrerade val",
      toConfirm: (age) => "ska bekr\u00e4ftas (l\u00e5ntagaren har fyllt " + age + ")",
      processingRestricted: "Behandlingen begr\u00e4nsad (GDPR art. 18): \u00e4ndra inte l\u00e5ntagarens uppgifter och fakturera inte l\u00e5ntagaren.",
      patronLink: "\u00d6ppna l\u00e5ntagaren i dataskyddstj\u00e4nsten",
      billingLink: "Personbeteckning: i tj\u00e4nstens faktureringsvy",
      unavailable: "Dataskyddstj\u00e4nsten svarar inte; visningen st\u00e5r i k\u00f6 och loggas senare.",
      unavailableNotQueued: "Dataskyddstj\u00e4nsten svarar inte.",
      notFound: "L\u00e5ntagaren finns \u00e4nnu inte i dataskyddstj\u00e4nsten.",
      failed: (status) => "Dataskyddsuppgifterna kunde inte visas (fel " + status + ").",
      viewNotQueued: (status) => "Visningen kunde inte st\u00e4llas i k\u00f6 (fel " + status + ").",
    },
    en: {
      heading: "Privacy",
      loading: "Loading from the privacy service\u2026",
      loaded: "Privacy details loaded.",
      nothing: "No bans, no sensitive marks and no notices to guardians.",
      noRestriction: "No library use ban or access prohibition in force.",
      restrictionsInForce: (count) => (count === 1 ? "1 ban in force." : count + " bans in force."),
      kinds: { library_use_ban: "Library use ban", access_prohibition: "Access prohibition" },
      unknownKind: "Ban",
      inForce: (from, to, library) => "in force " + from + " \u2013 " + to + ", library " + library + ".",
      marksLabel: "Sensitive marks",
      marks: {
        behaviour: "behaviour",
        guardianship: "guardianship",
        accessibility: "accessibility services",
        trusteeship: "adult guardianship",
      },
      noticesLabel: "Notices",
      noticesToGuardians: "go to the guardians",
      loanHistoryLabel: "Loan history",
      loanHistory: { 0: "kept", 1: "library default", 2: "not kept" },
      chosenBy: {
        patron: (date) => "the patron's recorded choice of " + date,
        patron_online: (date) => "the patron's recorded choice online of " + date,
        guardian: (date) => "the guardian's recorded choice of " + date,
      },
      notChosen: "not the patron's recorded choice",
      toConfirm: (age) => "to confirm (turned " + age + ")",
      processingRestricted: "Processing restricted (GDPR Art. 18): do not change or bill this patron's data.",
      patronLink: "Open the patron in the privacy service",
      billingLink: "Identity code: in the service's billing view",
      unavailable: "The privacy service does not answer; the view is queued and will be logged later.",
      unavailableNotQueued: "The privacy service does not answer.",
      notFound: "Not yet in the privacy service.",
      failed: (status) => "The privacy details could not be shown (error " + status + ").",
      viewNotQueued: (status) => "The view could not be queued (error " + status + ").",
    },
  };
  const EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  /** fi, sv or en from Koha's <html lang> ("fi-FI", "sv-SE", "en"); Finnish for anything else. */
  function languageOf(tag) {
    const primary = String(tag || "").toLowerCase().split(/[-_]/)[0];
    return Object.prototype.hasOwnProperty.call(STRINGS, primary) ? primary : "fi";
  }

  /** A service date (YYYY-MM-DD) as the staff user's language writes it; anything else as it came. */
  function formatDate(value, language) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
    if (!match) return String(value);
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (month < 1 || month > 12 || day < 1 || day > 31) return String(value);
    if (language === "sv") return match[0];
    if (language === "en") return day + " " + EN_MONTHS[month - 1] + " " + year;
    return day + "." + month + "." + year;
  }

  /** The page name the view is reported with ("moremember", "circulation"), or null off the patron pages. */
  function patronPageName(pathname) {
    const match = PATRON_PAGE.exec(String(pathname));
    return match ? match[1] || match[2] : null;
  }

  /** The patron's borrowernumber: the address's parameter first, then the page's form field. */
  function patronIdOf(search, fieldValue) {
    const fromUrl = new URLSearchParams(search || "").get("borrowernumber");
    for (const candidate of [fromUrl, fieldValue]) {
      const text = String(candidate == null ? "" : candidate).trim();
      if (PATRON_ID.test(text)) return Number(text);
    }
    return null;
  }

  /** The address itself when it is an absolute http(s) address, else null (no javascript:, data: ...). */
  function safeHref(value) {
    if (typeof value !== "string" || value === "") return null;
    try {
      const url = new URL(value);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    for (const child of children || []) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** One row of Koha's label/value lists (div.rows > ol > li > span.label). */
  function row(label, value) {
    return element("li", {}, [element("span", { class: "label" }, [label + ":"]), " ", value]);
  }

  function restrictionAlert(restriction, text, language) {
    const kinds = text.kinds;
    const kind = Object.prototype.hasOwnProperty.call(kinds, restriction.kind) ? kinds[restriction.kind] : text.unknownKind;
    const sentence = text.inForce(
      formatDate(restriction.starts_on, language),
      formatDate(restriction.ends_on, language),
      String(restriction.library == null ? "" : restriction.library)
    );
    return element("div", { class: "alert alert-warning patronprivacy-restriction" }, [
      element("strong", {}, [kind]),
      " ",
      sentence,
    ]);
  }

  /**
   * The loan-history line: the value, whether it is the patron's recorded choice (who chose, when) or not (a value
   * from Koha, never chosen), and a confirmation due at 15 or 18; null for an unknown value. A service that does not
   * say whether it was chosen (no loan_history_chosen_on) gets the value alone. No "to confirm" while processing is
   * restricted: nothing of the patron may be changed then, the choice's confirmation included (GDPR Art. 18(2)).
   */
  function loanHistoryText(status, text, language) {
    if (!Object.prototype.hasOwnProperty.call(text.loanHistory, status.loan_history)) return null;
    const parts = [text.loanHistory[status.loan_history]];
    const chosenBy = status.loan_history_chosen_by;
    if (typeof status.loan_history_chosen_on === "string" && Object.prototype.hasOwnProperty.call(text.chosenBy, chosenBy)) {
      parts[0] += " (" + text.chosenBy[chosenBy](formatDate(status.loan_history_chosen_on, language)) + ")";
    } else if (status.loan_history_chosen_on === null) {
      parts[0] += " (" + text.notChosen + ")";
    }
    const due = status.loan_history_confirmation_due;
    if ((due === 15 || due === 18) && status.processing_restricted !== true) parts.push(text.toConfirm(due));
    return parts.join(", ");
  }

  /** The warning of a restricted patron (GDPR Art. 18), an alert at the very top of the panel. */
  function processingWarning(text) {
    return element("div", { class: "alert alert-danger patronprivacy-processing-restricted", role: "alert" }, [
      element("strong", {}, [text.processingRestricted]),
    ]);
  }

  /** The panel's contents for a privacy status; returns [summary for the live region, nodes]. */
  function statusNodes(status, text, language) {
    const restrictions = Array.isArray(status.restrictions) ? status.restrictions : [];
    const marks = Array.isArray(status.sensitive_marks) ? status.sensitive_marks : [];
    const toGuardians = status.notices_to_guardians === true;
    const nodes = restrictions.map((restriction) => restrictionAlert(restriction || {}, text, language));
    const rows = [];
    if (restrictions.length === 0 && marks.length === 0 && !toGuardians) {
      nodes.push(element("p", { class: "patronprivacy-nothing" }, [text.nothing]));
    } else if (restrictions.length === 0) {
      nodes.push(element("p", { class: "patronprivacy-nothing" }, [text.noRestriction]));
    }
    if (marks.length > 0) {
      const names = marks.map((mark) =>
        Object.prototype.hasOwnProperty.call(text.marks, mark) ? text.marks[mark] : String(mark)
      );
      rows.push(row(text.marksLabel, names.join(", ")));
    }
    if (toGuardians) rows.push(row(text.noticesLabel, text.noticesToGuardians));
    const loanHistory = loanHistoryText(status, text, language);
    if (loanHistory !== null) rows.push(row(text.loanHistoryLabel, loanHistory));
    if (rows.length > 0) nodes.push(element("div", { class: "rows" }, [element("ol", {}, rows)]));
    const links = status.links && typeof status.links === "object" ? status.links : {};
    const linkItems = [];
    const patronHref = safeHref(links.patron);
    if (patronHref) linkItems.push(element("li", {}, [element("a", { href: patronHref }, [text.patronLink])]));
    const billingHref = safeHref(links.billing);
    if (billingHref) linkItems.push(element("li", {}, [element("a", { href: billingHref }, [text.billingLink])]));
    if (linkItems.length > 0) nodes.push(element("ul", { class: "patronprivacy-links" }, linkItems));
    const summary = restrictions.length > 0 ? text.restrictionsInForce(restrictions.length) : text.loaded;
    return [summary, nodes];
  }

  /** fetch with a time limit: a hung service must not leave the panel loading for ever. */
  function request(url, options) {
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS) : null;
    const settings = Object.assign({ credentials: "same-origin", signal: controller ? controller.signal : undefined }, options);
    return fetch(url, settings)
      .then(
        (response) => response.json().then(
          (body) => ({ status: response.status, body: body }),
          () => ({ status: response.status, body: null })
        ),
        () => ({ status: 0, body: null })
      )
      .finally(() => timer && clearTimeout(timer));
  }

  function reportView(base, patronId, page) {
    const token = document.querySelector('meta[name="csrf-token"]');
    return request(base + "/views", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "CSRF-TOKEN": token ? token.getAttribute("content") || "" : "",
      },
      body: JSON.stringify({ patron_id: patronId, page: page }),
    });
  }

  function fetchStatus(base, patronId) {
    return request(base + "/patrons/" + patronId + "/privacy-status", {
      method: "GET",
      headers: { Accept: "application/json" },
    });
  }

  /** The empty panel (heading, live status line) at the top of Koha's main column. */
  function mountPanel(text, language) {
    const heading = element("h2", { id: "patronprivacy-heading", class: "card-header" }, [text.heading]);
    const status = element("p", { class: "patronprivacy-status", role: "status", "aria-live": "polite" }, [text.loading]);
    const body = element("div", { class: "card-body patronprivacy-body", "aria-busy": "true" }, [status]);
    const panel = element(
      "section",
      { id: "patronprivacy-panel", class: "card patronprivacy-panel", role: "region", "aria-labelledby": heading.id, lang: language },
      [heading, body]
    );
    const main = document.querySelector("main") || document.getElementById("doc3") || document.querySelector(".main") || document.body;
    main.insertBefore(panel, main.firstChild);
    return { body: body, status: status };
  }

  function render(mounted, statusAnswer, viewAnswer, text, language) {
    const nodes = [];
    let summary;
    const viewQueued = viewAnswer.status === 202;
    if (statusAnswer.status === 200 && statusAnswer.body && typeof statusAnswer.body === "object") {
      const [line, contents] = statusNodes(statusAnswer.body, text, language);
      summary = line;
      nodes.push(...contents);
    } else if (statusAnswer.status === 404) {
      summary = text.notFound;
    } else if (statusAnswer.status === 0 || statusAnswer.status === 503 || statusAnswer.status >= 500) {
      summary = viewQueued ? text.unavailable : text.unavailableNotQueued;
    } else {
      summary = text.failed(statusAnswer.status);
    }
    if (!viewQueued) nodes.push(element("p", { class: "patronprivacy-view-error" }, [text.viewNotQueued(viewAnswer.status || "-")]));
    const notice = statusAnswer.status !== 200;
    mounted.status.className = "patronprivacy-status" + (notice ? " alert alert-info" : "");
    mounted.status.textContent = summary;
    if (statusAnswer.status === 200 && statusAnswer.body && statusAnswer.body.processing_restricted === true) {
      mounted.body.insertBefore(processingWarning(text), mounted.status);
    }
    for (const node of nodes) mounted.body.appendChild(node);
    mounted.body.setAttribute("aria-busy", "false");
  }

  function start() {
    const config = window.PatronPrivacy;
    if (!config || typeof config.base !== "string" || config.started) return;
    const page = patronPageName(window.location.pathname);
    if (!page) return;
    const field = document.querySelector('input[name="borrowernumber"]');
    const patronId = patronIdOf(window.location.search, field ? field.value : "");
    if (patronId === null || document.getElementById("patronprivacy-panel")) return;
    config.started = true;
    const language = languageOf(document.documentElement.getAttribute("lang"));
    const text = STRINGS[language];
    const mounted = mountPanel(text, language);
    Promise.all([fetchStatus(config.base, patronId), reportView(config.base, patronId, page)]).then(
      ([statusAnswer, viewAnswer]) => render(mounted, statusAnswer, viewAnswer, text, language)
    );
  }

  if (typeof module === "object" && module && module.exports) {
    // Node's test runner (koha-plugin/t/js) reads the pure parts; a browser has no `module`.
    module.exports = { languageOf, formatDate, patronPageName, patronIdOf, safeHref, loanHistoryText, STRINGS };
    return;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

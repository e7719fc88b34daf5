// Unit tests of the privacy panel's pure parts (node's own test runner; no npm packages).
// Run by panel.t under prove, or alone: node --test koha-plugin/t/js/
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const test = require("node:test");

const PANEL = path.join(__dirname, "..", "..", "Koha", "Plugin", "Fi", "PatronPrivacy", "js", "panel.js");
const panel = require(PANEL);

test("the staff language comes from <html lang>, Finnish for anything else", () => {
  assert.equal(panel.languageOf("fi-FI"), "fi");
  assert.equal(panel.languageOf("sv-SE"), "sv");
  assert.equal(panel.languageOf("en"), "en");
  assert.equal(panel.languageOf("EN_gb"), "en");
  assert.equal(panel.languageOf("de-DE"), "fi");
  assert.equal(panel.languageOf(""), "fi");
  assert.equal(panel.languageOf(null), "fi");
});

test("dates as each language writes them", () => {
  assert.equal(panel.formatDate("2026-12-01", "fi"), "1.12.2026");
  assert.equal(panel.formatDate("2026-12-01", "sv"), "2026-12-01");
  assert.equal(panel.formatDate("2026-12-01", "en"), "1 Dec 2026");
  assert.equal(panel.formatDate("2026-13-01", "fi"), "2026-13-01");
  assert.equal(panel.formatDate("<b>1</b>", "fi"), "<b>1</b>");
});

test("only Koha's patron pages are patron pages", () => {
  assert.equal(panel.patronPageName("/cgi-bin/koha/members/moremember.pl"), "moremember");
  assert.equal(panel.patronPageName("/cgi-bin/koha/members/memberentry.pl"), "memberentry");
  assert.equal(panel.patronPageName("/cgi-bin/koha/circ/circulation.pl"), "circulation");
  assert.equal(panel.patronPageName("/cgi-bin/koha/circ/returns.pl"), null);
  assert.equal(panel.patronPageName("/cgi-bin/koha/catalogue/detail.pl"), null);
  assert.equal(panel.patronPageName("/cgi-bin/koha/members/../circ/x.pl"), null);
  assert.equal(panel.patronPageName("/cgi-bin/koha/members/moremember.pl/extra"), null);
});

test("the patron id: the address's borrowernumber first, then the form field, digits only", () => {
  assert.equal(panel.patronIdOf("?borrowernumber=42", "7"), 42);
  assert.equal(panel.patronIdOf("?op=x", "7"), 7);
  assert.equal(panel.patronIdOf("?borrowernumber=abc", "7"), 7);
  assert.equal(panel.patronIdOf("", "[% patron.borrowernumber | html %]"), null);
  assert.equal(panel.patronIdOf("?borrowernumber=0", ""), null);
  assert.equal(panel.patronIdOf("?borrowernumber=1e3", ""), null);
  assert.equal(panel.patronIdOf("?borrowernumber=9999999999999999", ""), null);
});

test("links only to http(s) addresses", () => {
  assert.equal(panel.safeHref("https://privacy.example.fi/patrons/3/"), "https://privacy.example.fi/patrons/3/");
  assert.equal(panel.safeHref("http://127.0.0.1:8000/patrons/3/"), "http://127.0.0.1:8000/patrons/3/");
  assert.equal(panel.safeHref("javascript:alert(1)"), null);
  assert.equal(panel.safeHref("JaVaScRiPt:alert(1)"), null);
  assert.equal(panel.safeHref("data:text/html,<script>alert(1)</script>"), null);
  assert.equal(panel.safeHref("/patrons/3/"), null);
  assert.equal(panel.safeHref(null), null);
});

test("every language has every string", () => {
  const keys = (language) => Object.keys(panel.STRINGS[language]).sort();
  assert.deepEqual(keys("sv"), keys("fi"));
  assert.deepEqual(keys("en"), keys("fi"));
  for (const language of ["fi", "sv", "en"]) {
    const strings = panel.STRINGS[language];
    assert.deepEqual(Object.keys(strings.marks).sort(), ["accessibility", "behaviour", "guardianship", "trusteeship"]);
    assert.deepEqual(Object.keys(strings.kinds).sort(), ["access_prohibition", "library_use_ban"]);
    assert.deepEqual(Object.keys(strings.loanHistory).sort(), ["0", "1", "2"]);
    assert.deepEqual(Object.keys(strings.chosenBy).sort(), ["guardian", "patron", "patron_online"]);
  }
});

test("loan history: the patron's recorded choice with its date, or not a recorded choice, and to confirm at 15/18", () => {
  const en = panel.STRINGS.en;
  const chosen = { loan_history: 0, loan_history_chosen_on: "2026-03-01", loan_history_chosen_by: "patron" };
  assert.equal(panel.loanHistoryText(chosen, en, "en"), "kept (the patron's recorded choice of 1 Mar 2026)");
  assert.equal(
    panel.loanHistoryText({ ...chosen, loan_history_chosen_by: "guardian" }, panel.STRINGS.fi, "fi"),
    "s\u00e4ilytet\u00e4\u00e4n (huoltajan kirjattu valinta 1.3.2026)"
  );
  assert.equal(
    panel.loanHistoryText({ ...chosen, loan_history_confirmation_due: 18 }, en, "en"),
    "kept (the patron's recorded choice of 1 Mar 2026), to confirm (turned 18)"
  );
  const fromKoha = { loan_history: 2, loan_history_chosen_on: null, loan_history_chosen_by: null };
  assert.equal(panel.loanHistoryText(fromKoha, en, "en"), "not kept (not the patron's recorded choice)");
  assert.equal(
    panel.loanHistoryText(fromKoha, panel.STRINGS.sv, "sv"),
    "sparas inte (inte l\u00e5ntagarens registrerade val)"
  );
  // Restricted (GDPR Art. 18): nothing of the patron is changed, so no confirmation is asked for.
  const restricted = { ...chosen, loan_history_confirmation_due: 15, processing_restricted: true };
  assert.equal(panel.loanHistoryText(restricted, en, "en"), "kept (the patron's recorded choice of 1 Mar 2026)");
  // A service that does not say (no such fields): the value alone; a strange value or chooser: no claim.
  assert.equal(panel.loanHistoryText({ loan_history: 1 }, en, "en"), "library default");
  assert.equal(panel.loanHistoryText({ ...chosen, loan_history_chosen_by: "<b>x</b>" }, en, "en"), "kept");
  assert.equal(panel.loanHistoryText({ ...chosen, loan_history_confirmation_due: "18" }, en, "en"), "kept (the patron's recorded choice of 1 Mar 2026)");
  assert.equal(panel.loanHistoryText({ loan_history: 7 }, en, "en"), null);
});

test("the panel never writes markup: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval", () => {
  const source = fs.readFileSync(PANEL, "utf8");
  for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"]) {
    assert.equal(source.includes(sink), false, sink);
  }
});

test("the script is ASCII: Koha pastes its bytes into a page whatever the page's encoding", () => {
  const source = fs.readFileSync(PANEL);
  assert.equal(source.every((byte) => byte < 0x80), true);
  assert.equal(panel.STRINGS.fi.kinds.library_use_ban, "Kirjaston k\u00e4ytt\u00f6kielto");
});

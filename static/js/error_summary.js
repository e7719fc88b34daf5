// A refused form's error summary (templates/includes/error_summary.html) takes the focus when the page loads,
// so the eye and the screen reader start there; its links move the focus to the field they name, with the
// field's label in view, opening a closed <details> around it.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) return;
    event.preventDefault();
    const details = field.closest("details");
    if (details) details.open = true;
    const label = document.querySelector(`label[for="${CSS.escape(field.id)}"]`) || field.closest("fieldset")?.querySelector("legend");
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
});

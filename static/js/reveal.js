// Hide a revealed identity code after a while: it is for reading off once, not for leaving on screen.
document.querySelectorAll("[data-hide-after]").forEach((element) => {
  const seconds = Number(element.dataset.hideAfter) || 60;
  setTimeout(() => {
    element.textContent = "";
    const hint = element.parentElement.querySelector("[data-hidden-text]");
    if (hint) hint.textContent = hint.dataset.hiddenText;
  }, seconds * 1000);
});

// Hide a revealed identity code after a while: it is for reading off once, not for leaving on screen.
// The time left shows as m:ss; the "show again" button (a new reveal, logged, with the same reason) appears
// once the code is hidden. Without JavaScript the code stays and the button is there from the start.
document.querySelectorAll("[data-hide-after]").forEach((element) => {
  const seconds = Number(element.dataset.hideAfter) || 60;
  const article = element.closest("article") || element.parentElement;
  const hint = article.querySelector("[data-hidden-text]");
  const countdown = article.querySelector("[data-countdown]");
  const again = article.querySelector(".reveal-again");
  const hideAt = Date.now() + seconds * 1000;
  const format = (left) => `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  if (again) again.hidden = true;
  const tick = () => {
    const left = Math.max(0, Math.ceil((hideAt - Date.now()) / 1000));
    if (countdown) countdown.textContent = format(left);
    if (left > 0) return;
    clearInterval(timer);
    element.textContent = "";
    if (hint) hint.textContent = hint.dataset.hiddenText;
    if (again) {
      again.hidden = false;
      again.querySelector("button")?.focus();
    }
  };
  const timer = setInterval(tick, 250);
  tick();
});

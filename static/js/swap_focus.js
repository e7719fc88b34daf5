// When an htmx swap removes the element that had the keyboard's focus (the "show the text" button of a sensitive
// note, the guardian's contact), the focus would fall back to <body>, and a keyboard or screen-reader user would
// start again at the top of the page. Move it to what was swapped in instead; a swap that leaves the focus where
// it was (the search box while its results update) is left alone.
document.addEventListener("htmx:afterSwap", (event) => {
  const focused = document.activeElement;
  if (focused && focused !== document.body && focused.isConnected) return;
  const target = event.detail.target;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
});

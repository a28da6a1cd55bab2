// The promoter page's copy buttons: the code or the link onto the clipboard with one tap.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const done = () => { button.textContent = button.dataset.done; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, () => field.select());
  } else {
    field.select();  // an old browser: selected, ready for the phone's own copy
  }
});

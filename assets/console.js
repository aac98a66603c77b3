// The console's one script, small on purpose: every page works without it.
// - A member's "Change roles" form shows what the change would do as its boxes change, from the
//   server's own preview (the same as the API's `?dry_run=true`).
// - Copy buttons copy a secret shown once.
(function () {
  'use strict';

  function preview(form) {
    var slot = form.querySelector('.preview-slot');
    if (!slot) return;
    var params = new URLSearchParams();
    form.querySelectorAll('input[name="roles"]:checked').forEach(function (box) {
      params.append('roles', box.value);
    });
    fetch(form.dataset.preview + '?' + params.toString(), { credentials: 'same-origin' })
      .then(function (r) { return r.text(); })
      .then(function (html) { slot.innerHTML = html; })
      .catch(function () { slot.textContent = ''; });
  }

  document.querySelectorAll('form[data-preview]').forEach(function (form) {
    form.addEventListener('change', function () { preview(form); });
    var details = form.closest('details');
    if (details) {
      details.addEventListener('toggle', function () { if (details.open) preview(form); });
    }
  });

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = 'Copied';
      });
    });
  });
})();

// The console's one script, small on purpose: every page works without it.
// - A member's "Change roles" form shows what the change would do as its boxes change, from the
//   server's own preview (the same as the API's `?dry_run=true`).
// - Copy buttons copy a secret shown once.
// - A page showing a secret once (a new API token) is the answer to a form: reloading it asks
//   for the page again instead of sending the form again.
// - The new-token form offers only the permissions held where the token will apply.
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

  if (document.querySelector('[data-shown-once]') && window.history.replaceState) {
    window.history.replaceState(null, '', window.location.href);
  }

  document.querySelectorAll('select[data-token-org]').forEach(function (select) {
    var form = select.form;
    function narrow() {
      var option = select.options[select.selectedIndex];
      var held = (option && option.dataset.perms ? option.dataset.perms : '').split(' ');
      form.querySelectorAll('input[name="permissions"]').forEach(function (box) {
        var open = held.indexOf(box.value) >= 0;
        box.disabled = !open;
        if (!open) box.checked = false;
      });
    }
    select.addEventListener('change', narrow);
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

// The console's one script, small on purpose: every page works without it.
// - A member's "Change roles" form, and a custom role's column on the roles page, show what the
//   change would do as their boxes change, from the server's own preview (the API's
//   `?dry_run=true`).
// - Copy buttons copy a secret shown once.
// - A page showing a secret once (a new API token) is the answer to a form: reloading it asks
//   for the page again instead of sending the form again.
// - The new-token form offers only the permissions held where the token will apply.
(function () {
  'use strict';

  // The form's own controls and those tied to it by a `form=` attribute (the roles matrix's
  // cells), as a query; never the CSRF token, which stays out of URLs.
  function preview(form) {
    var slot = form.dataset.slot ? document.getElementById(form.dataset.slot)
      : form.querySelector('.preview-slot');
    if (!slot) return;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== 'csrf') params.append(key, value);
    });
    fetch(form.dataset.preview + '?' + params.toString(), { credentials: 'same-origin' })
      .then(function (r) { return r.text(); })
      .then(function (html) { slot.innerHTML = html; })
      .catch(function () { slot.textContent = ''; });
  }

  // A change event reaches the form only through the DOM, and a matrix cell's box is not inside
  // its form: listen on the document and ask the control for its form.
  document.addEventListener('change', function (event) {
    var form = event.target.form;
    if (form && form.dataset.preview) preview(form);
  });
  document.querySelectorAll('form[data-preview]').forEach(function (form) {
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

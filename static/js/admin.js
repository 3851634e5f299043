// Fixes for every admin page, to the autocomplete pickers (select2 4.0, as Django ships it).
'use strict';
(() => {
  // A picker of several choices has a × on each; select2's extra "clear all" × is a bare <span> inside the list
  // of choices (invalid in a <ul>). Turned off here, before Django's autocomplete.js reads it on DOMContentLoaded.
  document.querySelectorAll('select[multiple].admin-autocomplete[data-allow-clear]').forEach(select => {
    select.dataset.allowClear = 'false';
  });

  // Its search box has no label: it is named after its field, here and in any picker select2 draws later.
  function labelSearchBoxes() {
    document.querySelectorAll('.select2-container .select2-search__field:not([aria-label])').forEach(box => {
      const select = box.closest('.select2-container').previousElementSibling;
      const label = select && select.labels && select.labels[0];
      const name = label ? label.textContent.replace(/:\s*$/, '').trim() : 'choices';
      box.setAttribute('aria-label', `Search ${name.toLowerCase()}`);
    });
  }

  // defer: runs before DOMContentLoaded, whose handlers (Django's autocomplete.js) draw the pickers.
  document.addEventListener('DOMContentLoaded', () => {
    labelSearchBoxes();
    new MutationObserver(labelSearchBoxes).observe(document.body, {childList: true, subtree: true});
  });
})();

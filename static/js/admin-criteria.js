// The rubric's boxes in the admin (tracker.forms.CriteriaWidget), made quicker to edit: "Add a criterion" and
// "Remove" buttons. Without this script the form works the same way with its empty boxes.
'use strict';
(() => {
  // Ids follow the box's name (Django renames the names of an inline claim added with "Add another Claim").
  function renumber(editor) {
    editor.querySelectorAll('.criteria-row').forEach((row, index) => {
      const input = row.querySelector('input');
      const id = `id_${input.name}` + (index === 0 ? '' : `_${index}`);
      const label = row.querySelector('label');
      input.id = id;
      label.htmlFor = id;
      label.textContent = `Criterion ${index + 1}`;
      row.querySelector('.criteria-remove .visually-hidden').textContent = `criterion ${index + 1}`;
    });
  }

  function add(editor) {
    const rows = editor.querySelector('.criteria-rows');
    const row = rows.lastElementChild.cloneNode(true);
    row.querySelector('input').value = '';
    rows.append(row);
    renumber(editor);
    row.querySelector('input').focus();
  }

  function remove(editor, row) {
    const rows = editor.querySelector('.criteria-rows');
    if (rows.children.length > 1) row.remove();
    else row.querySelector('input').value = '';
    renumber(editor);
    editor.querySelector('.criteria-add').focus();
  }

  function enhance(root) {
    root.querySelectorAll('.criteria button[hidden]').forEach(button => { button.hidden = false; });
  }

  document.addEventListener('click', event => {
    const button = event.target.closest('.criteria-add, .criteria-remove');
    if (!button) return;
    const editor = button.closest('.criteria');
    if (button.classList.contains('criteria-add')) add(editor);
    else remove(editor, button.closest('.criteria-row'));
  });
  document.addEventListener('DOMContentLoaded', () => enhance(document));
  document.addEventListener('formset:added', event => enhance(event.target));
})();

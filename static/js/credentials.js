// "Copy link" on the Credentials page: copies the public link from the read-only field beside the button.
document.addEventListener('click', async event => {
  const button = event.target.closest('.copy-link');
  if(!button) {
    return;
  }
  const field = document.getElementById(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = 'Copied';
  } catch {
    field.select();  // no clipboard permission: leave it selected for Ctrl+C
  }
});

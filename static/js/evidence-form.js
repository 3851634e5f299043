// Show only the input that matches the chosen kind of evidence. Without JavaScript every
// allowed input stays visible and the server still takes the one for the chosen kind.
(function () {
  const form = document.querySelector("form.evidence-form");
  if (!form) return;
  const inputFor = { written: "body", link: "url", file: "file", notebook: "file" };
  function update() {
    const chosen = form.querySelector("input[name=kind]:checked");
    const wanted = chosen ? inputFor[chosen.value] : null;
    for (const name of new Set(Object.values(inputFor))) {
      const field = form.querySelector(`[data-field="${name}"]`);
      if (field) field.hidden = wanted !== null && wanted !== name;
    }
  }
  form.addEventListener("change", update);
  update();
})();

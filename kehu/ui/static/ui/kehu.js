// Small helpers; everything else is HTMX.
document.addEventListener("change", function (e) {
  if (e.target.matches("[data-select-all]")) {
    document.querySelectorAll("input[name=pk]").forEach(function (box) { box.checked = e.target.checked; });
  }
});
document.addEventListener("click", function (e) {
  var opt = e.target.closest("[data-autocomplete-option]");
  if (!opt) return;
  var box = opt.closest("[data-autocomplete]");
  var select = box.querySelector("select");
  select.innerHTML = "";
  var o = document.createElement("option");
  o.value = opt.dataset.value; o.textContent = opt.textContent.trim(); o.selected = true;
  select.appendChild(o);
  select.dispatchEvent(new Event("change", {bubbles: true}));
  box.querySelector("[data-autocomplete-results]").innerHTML = "";
  box.querySelector("input[type=search]").value = "";
  e.preventDefault();
});

// A fragment changed the record shown (a document's lines): the page's forms that carry its
// version (the transition buttons, the edit form) take the new one, so they are not refused as stale
document.body.addEventListener("kehu:version", function (e) {
  document.querySelectorAll("input[name=version]").forEach(function (input) { input.value = e.detail.value; });
});

// The application form shows only the chosen program's details: each section lists the
// programs whose calculation reads it (data-programs, from the server); the others are
// hidden and disabled, so they are neither seen nor sent.
(function () {
  "use strict";
  function apply() {
    var select = document.getElementById("program");
    if (!select) return;
    var program = select.value;
    var shown = 0;
    document.querySelectorAll("fieldset.details[data-programs]").forEach(function (f) {
      var on = program !== "" && f.dataset.programs.split(" ").indexOf(program) >= 0;
      f.hidden = !on;
      f.disabled = !on;
      if (on) shown++;
    });
    var hint = document.getElementById("details-hint");
    if (hint) {
      hint.textContent = program === ""
        ? "选择救助项目后，这里显示该项目测算所需的信息（受理后也可在案件页补充）。"
        : shown === 0
          ? "该项目无需填写其他测算信息。"
          : "以下为该项目测算所需的信息（受理后也可在案件页补充）：";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("program");
    if (!select) return;
    select.addEventListener("change", apply);
    apply();
  });
})();

// The 来源地 box: as the resident types, fill its datalist with matching divisions from the server.
(function () {
  document.querySelectorAll("input[data-divisions]").forEach(function (box) {
    var list = document.getElementById(box.getAttribute("list"));
    var url = box.form.getAttribute("data-divisions-url");
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      if (/\d{6}/.test(box.value) || !box.value.trim()) return;
      timer = setTimeout(function () {
        fetch(url + "?format=options&q=" + encodeURIComponent(box.value.trim()))
          .then(function (response) { return response.text(); })
          .then(function (html) { list.innerHTML = html; });
      }, 250);
    });
  });
})();

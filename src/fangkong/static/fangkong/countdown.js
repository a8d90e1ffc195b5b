// Keeps the "剩余 3 小时 12 分" of verification lists current without a reload.
// The server renders the first value; each .countdown carries its deadline and its words.
(function () {
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Date.parse(el.dataset.deadline) - now;
      if (isNaN(left)) { return; }
      var minutes = Math.floor(Math.abs(left) / 60000);
      var overdue = left < 0;
      el.classList.toggle("overdue", overdue);
      el.textContent = (overdue ? el.dataset.overdueText : el.dataset.leftText) + " " +
        Math.floor(minutes / 60) + " " + el.dataset.hoursText + " " + (minutes % 60) + " " + el.dataset.minutesText;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
  });
})();

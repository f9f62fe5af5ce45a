// inhouse dashboard: the only script. It shows every <time> in the viewer's own zone (the
// server renders UTC, which stays when scripts are off). No network, no framework.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime]").forEach(function (node) {
    var value = node.getAttribute("datetime");
    if (!value || value.length <= 10) { return; }
    var moment = new Date(value);
    if (!isNaN(moment.getTime())) {
      node.setAttribute("title", value);
      node.textContent = format.format(moment);
    }
  });
});

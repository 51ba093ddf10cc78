// The wall: tiles updated live from the server's stream (Server-Sent Events), no reload.
// Each tile is an element [data-figure]; an event `tiles` carries, per figure, its text,
// its caption and its level (ok, amber, red).
(function () {
  var status = document.getElementById("live");
  function apply(payload) {
    var tiles = payload.tiles || [];
    tiles.forEach(function (tile) {
      var el = document.querySelector('[data-figure="' + tile.figure + '"]');
      if (!el) { return; }
      el.querySelector("b").textContent = tile.value;
      el.querySelector("span").textContent = tile.label;
      el.className = "tile " + tile.level;
      el.setAttribute("data-level", tile.level);
    });
    if (status) { status.textContent = "live · updated " + payload.at_local; }
  }
  var source = new EventSource("/wall/stream");
  source.addEventListener("tiles", function (event) { apply(JSON.parse(event.data)); });
  source.onerror = function () {
    if (status) { status.textContent = "reconnecting…"; }
    // The browser retries by itself, unless the stream was refused (a session that ended):
    // then the page is loaded again, which asks to sign in if need be.
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(function () { window.location.reload(); }, 5000);
    }
  };
})();

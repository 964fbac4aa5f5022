// Pipeline board: drag a card to another column; the server changes the stage (HTMX) and returns
// the board. Won and lost columns first ask for what closing needs; an error leaves the card put.
(function () {
  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var board = document.querySelector("#board .board");
    if (!board || board.dataset.canEdit !== "1" || typeof Sortable === "undefined") return;
    scope.querySelectorAll("[data-board-column]").forEach(function (col) {
      if (col._sortable) return;
      col._sortable = Sortable.create(col, {
        group: "board", animation: 150, draggable: ".board-card", delay: 150, delayOnTouchOnly: true,
        onEnd: function (evt) {
          if (evt.from === evt.to) return;
          var b = document.querySelector("#board .board");
          var pk = evt.item.dataset.id, stage = evt.to.dataset.stage;
          var url = b.dataset.stageUrl.replace("/0/", "/" + pk + "/");
          var query = b.dataset.query || "";
          if (evt.to.dataset.closed === "1" || evt.from.dataset.closed === "1") {  // win, lose, reopen: the dialog
            htmx.ajax("GET", url + "?stage=" + stage + "&q_board=" + encodeURIComponent(query),
                      {target: "#board-dialog", swap: "innerHTML"});
          } else {
            htmx.ajax("POST", url, {target: "#board", swap: "innerHTML", values: {stage: stage, q_board: query}});
          }
        }
      });
    });
  }
  document.addEventListener("htmx:load", function (e) { init(e.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();

/* Small progressive enhancements of the server-rendered pages (the pages work without them):
 *  - ratings save as they are given: a star click POSTs to the JSON endpoint (data-autosave-url,
 *    data-save-url) with the form's CSRF token, one request at a time (session ratings are
 *    read-modify-write), and the progress bar counts the rated paintings;
 *  - a rating given on the recommendations page refreshes the list once saved;
 *  - the "getting ready" state (data-ready-url) polls a small JSON status, shows the builds'
 *    progress from it and reloads the page as soon as a recommender is ready;
 *  - the "better recommendations on their way" note (data-better) polls the same status and
 *    offers the better list once its recommender is ready (it never reloads under the reader).
 * Loaded as a static file: the Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var POLL_MS = 3000;
  var queue = Promise.resolve();

  function save(url, form, painting, value) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    var body = new URLSearchParams();
    body.set("painting", painting);
    body.set("value", value);
    if (token) body.set("csrfmiddlewaretoken", token.value);
    var run = function () {
      return fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" },
      }).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error((data.error && data.error.message) || "Not saved.");
          return data;
        });
      });
    };
    queue = queue.then(run, run);
    return queue;
  }

  function updateProgress(form) {
    var sets = form.querySelectorAll("fieldset.rating");
    var rated = 0;
    sets.forEach(function (set) {
      var checked = set.querySelector("input[type=radio]:checked");
      if (checked && checked.value) rated += 1;
    });
    var count = form.querySelector("[data-rated-count]");
    var bar = form.querySelector("[data-rated-progress]");
    if (count) count.textContent = String(rated);
    if (bar) bar.value = rated;
  }

  function autosave(form) {
    var url = form.getAttribute("data-autosave-url");
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (input.type !== "radio" || input.name.indexOf("rating-") !== 0) return;
      var card = input.closest("[data-painting]");
      var status = card && card.querySelector("[data-saved]");
      updateProgress(form);
      if (status) status.textContent = "Saving…";
      save(url, form, input.name.slice("rating-".length), input.value).then(
        function () {
          if (status) status.textContent = input.value ? "Saved" : "Rating removed";
          if (card) card.classList.add("art--saved");
        },
        function (error) {
          if (status) status.textContent = error.message + " It will be saved when you show your recommendations.";
        }
      );
    });
  }

  function quickRate(form) {
    var url = form.getAttribute("data-save-url");
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (input.type !== "radio" || !input.value) return;
      form.classList.add("quick-rate--saving");
      save(url, form, form.getAttribute("data-quick-rate"), input.value).then(
        function () {
          window.location.reload();
        },
        function () {
          form.submit(); // the plain form says what went wrong
        }
      );
    });
  }

  function pollReady(box) {
    var url = box.getAttribute("data-ready-url");
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { ready: false };
        })
        .then(function (data) {
          if (data.ready) {
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
          var list = box.querySelector("[data-building]");
          if (list && data.building) {
            list.replaceChildren.apply(
              list,
              data.building.map(function (note) {
                var item = document.createElement("li");
                var label = document.createElement("strong");
                label.textContent = note.label;
                item.append(label, ": " + note.text);
                return item;
              })
            );
          }
        })
        .catch(function () {
          /* the server is restarting: try again at the next tick */
        });
    }, POLL_MS);
  }

  function pollBetter(box) {
    var url = box.getAttribute("data-ready-poll-url");
    var name = box.getAttribute("data-better");
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { recommenders: [] };
        })
        .then(function (data) {
          var ready = (data.recommenders || []).some(function (r) {
            return r.name === name;
          });
          if (ready) {
            window.clearInterval(timer);
            box.querySelector("[data-better-waiting]").hidden = true;
            box.querySelector("[data-better-ready]").hidden = false;
          }
        })
        .catch(function () {
          /* the server is restarting: try again at the next tick */
        });
    }, POLL_MS * 5);
  }

  document.querySelectorAll("form[data-autosave-url]").forEach(autosave);
  document.querySelectorAll("form[data-quick-rate]").forEach(quickRate);
  document.querySelectorAll("[data-ready-url]").forEach(pollReady);
  document.querySelectorAll("[data-better]").forEach(pollBetter);
})();

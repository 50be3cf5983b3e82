/* Live notifications on every admin page of a Seller or staff member (admin/templates/appbuilder/
   navbar_right.html): the page's Socket.IO connection, the bell with its unread count and the toasts.

   - The socket (socket.io-client, vendored from npm: admin/assets/vendor.txt) connects to this
     origin's /socket.io/ with a short-lived access token that the session mints (POST
     /admin/realtime/token/ with the page's CSRF token), asked again at every (re)connection.
   - The bell starts from GET /api/v1/notifications/unread-count/ ({"unread": n}) when the app
     has the notification centre (data-centre) and counts `notification.created` live;
     without it, it counts the events this page announced until the list is opened.
   - Each event is announced once (the payload's event_id), and re-dispatched on the document as
     a "market:realtime" CustomEvent ({name, data}) for the page's own scripts (the home page's
     figures: dashboard.js).
   No inline script: the admin's Content-Security-Policy allows only this origin's files. */
(function () {
  "use strict";
  var bell = document.getElementById("market-bell");
  if (!bell || typeof io === "undefined" || !window.fetch) {
    return;
  }
  var badge = bell.querySelector(".market-bell-count");
  var list = bell.querySelector(".market-bell-list");
  var unread = 0;
  // the notification centre's count (the page says whether this app has it: data-centre)
  var COUNT_URL = "/api/v1/notifications/unread-count/";
  var liveOnly = !bell.dataset.centre;
  var seen = {};
  var toasts = document.createElement("div");
  toasts.className = "market-toasts";
  toasts.setAttribute("role", "status");
  toasts.setAttribute("aria-live", "polite");
  document.body.appendChild(toasts);

  function showCount() {
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread <= 0;
  }

  function money(amount, currency) {
    if (amount === undefined || amount === null) {
      return "";
    }
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency })
        .format(Number(amount));
    } catch (e) {
      return amount + " " + (currency || "");
    }
  }

  function statusText(status) {
    return String(status || "").replace(/_/g, " ");
  }

  // what a person reads for each event: [title, line, style]; null: no toast (still dispatched)
  var describe = {
    "order.created": function (d) {
      return ["New order " + (d.number || "#" + d.order_id),
              money(d.total, d.currency) + (d.sub_order_id ? " for your store" : ""), ""];
    },
    "order.status_changed": function (d) {
      return ["Order #" + d.order_id + " is " + statusText(d.to_status),
              "was " + statusText(d.from_status), ""];
    },
    "inventory.low_stock": function (d) {
      return ["Low stock: " + (d.sku || "variant " + d.variant_id),
              d.available + " left (reorder point " + d.reorder_point + ")", "warn"];
    },
    "inventory.stock_changed": function () {
      return null;
    },
    "payout.paid": function (d) {
      return ["Payout paid", money(d.amount, d.currency), "money"];
    },
    "notification.created": function (d) {
      return [d.title || "New notification", d.body || "", ""];
    },
    "chat.message": function (d) {
      return ["New message", d.excerpt || d.body || "", ""];
    }
  };

  function toast(title, line, style) {
    var box = document.createElement("div");
    box.className = "market-toast" + (style ? " market-toast-" + style : "");
    var strong = document.createElement("strong");
    strong.textContent = title;
    box.appendChild(strong);
    if (line) {
      box.appendChild(document.createTextNode(line));
    }
    toasts.appendChild(box);
    window.setTimeout(function () { box.remove(); }, 8000);
  }

  function remember(title, line) {
    var empty = list.querySelector(".market-bell-empty");
    if (empty) {
      empty.remove();
    }
    var item = document.createElement("li");
    var when = document.createElement("span");
    when.className = "market-bell-when";
    when.textContent = new Date().toLocaleTimeString();
    var strong = document.createElement("strong");
    strong.textContent = title;
    item.appendChild(when);
    item.appendChild(strong);
    if (line) {
      item.appendChild(document.createElement("br"));
      item.appendChild(document.createTextNode(line));
    }
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 20) {
      list.removeChild(list.lastChild);
    }
  }

  function token() {
    return fetch(bell.dataset.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": bell.dataset.csrf, "Accept": "application/json" }
    }).then(function (r) {
      if (!r.ok) {
        throw new Error("no socket token (" + r.status + ")");
      }
      return r.json();
    });
  }

  // the centre's count is the truth: fetched at the start and again after each notification.created
  // (the event comes after its commit, so the count includes it); an answer older than the last
  // asked-for one is dropped, so a slow first answer cannot undo a newer count
  var countAsked = 0;
  function loadUnread(access) {
    if (liveOnly) {
      return;  // no notification centre in this app: the live count alone
    }
    var asked = ++countAsked;
    (access ? Promise.resolve({ token: access }) : token()).then(function (body) {
      return fetch(COUNT_URL, {
        headers: { "Authorization": "Bearer " + body.token, "Accept": "application/json" }
      });
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (asked === countAsked && body && typeof body.unread === "number") {
        unread = body.unread;
        showCount();
      }
    }).catch(function () {});
  }

  var first = true;
  var socket = io({
    // a fresh token for every (re)connection; the connection outlives it
    auth: function (cb) {
      token().then(function (body) {
        if (first) {
          first = false;
          loadUnread(body.token);
        }
        cb({ token: body.token });
      }).catch(function () { cb({}); });
    },
    transports: ["websocket", "polling"]
  });

  socket.onAny(function (name, data) {
    data = data || {};
    if (data.event_id !== undefined) {
      var key = name + ":" + data.event_id;
      if (seen[key]) {
        return;
      }
      seen[key] = true;
    }
    document.dispatchEvent(new CustomEvent("market:realtime", { detail: { name: name, data: data } }));
    if (name === "session.ended") {
      toast("Signed out elsewhere", data.message || "", "warn");
      return;
    }
    var text = describe[name] ? describe[name](data) : null;
    // with the notification centre, every event is also stored as a notification and counted
    // by its notification.created; without it, the bell counts what this page announced
    if (liveOnly ? text : name === "notification.created") {
      unread += 1;  // at once; the centre's count follows
      showCount();
      loadUnread(null);
    }
    if (text) {
      toast(text[0], text[1], text[2]);
      remember(text[0], text[1]);
    }
  });
  if (liveOnly) {  // opening the list is reading it
    bell.querySelector("a").addEventListener("click", function () {
      unread = 0;
      showCount();
    });
  }
  bell.dataset.state = "connecting";
  socket.on("connect", function () {
    bell.dataset.state = "connected";
    bell.dataset.transport = socket.io.engine.transport.name;  // "websocket" unless blocked
  });
  socket.on("disconnect", function () { bell.dataset.state = "disconnected"; });
  socket.on("connect_error", function (err) {
    bell.dataset.state = "refused";
    bell.title = "Live notifications unavailable: " + (err && err.message ? err.message : "offline");
  });
}());

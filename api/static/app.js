/*
 * In-app demo: the "Signed in as" picker lists the demo customers (GET /api/demo/customers, demo mode only) and
 * starts the widget as the chosen customer, with the identity token a real host application would mint server-side
 * (and mint again when it expires: `refreshToken`).
 */
(function () {
  "use strict";
  var STORE_KEY = "keepwell.demo.customer";
  var select = document.getElementById("demo-customer");
  var config = document.getElementById("kw-config");
  var fields = {
    name: document.getElementById("demo-name"),
    plan: document.getElementById("demo-plan"),
    segment: document.getElementById("demo-segment"),
    workspace: document.getElementById("demo-workspace"),
    status: document.getElementById("demo-status"),
  };
  var customers = [];

  function remember(id) {
    try {
      window.localStorage.setItem(STORE_KEY, id);
    } catch (error) {
      /* the picker then starts from the first customer after a reload */
    }
  }

  function remembered() {
    try {
      return window.localStorage.getItem(STORE_KEY);
    } catch (error) {
      return null;
    }
  }

  function capitalise(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function startAnonymous(message) {
    fields.status.textContent = message;
    select.textContent = "";
    select.appendChild(new Option("Demo customers unavailable", ""));
    window.KeepwellWidget.init({
      apiBase: "",
      title: config.dataset.title,
      subtitle: "Not signed in",
      greeting: config.dataset.greeting,
    });
  }

  /** Show the customer and start the widget as them; `fresh` starts a new conversation (an explicit switch). */
  function start(customer, fresh) {
    fields.name.textContent = customer.name;
    fields.plan.textContent = capitalise(customer.plan);
    fields.segment.textContent = customer.segment;
    fields.workspace.textContent = customer.name;
    fields.status.textContent = fresh ? "Now chatting as " + customer.name + " — a new conversation has started." : "";
    remember(customer.id);
    window.KeepwellWidget.init({
      apiBase: "",
      token: customer.token,
      refreshToken: function () {
        return freshToken(customer.id);
      },
      identityKey: "customer:" + customer.id,
      title: config.dataset.title,
      subtitle: "Signed in as " + customer.name,
      greeting: "Hi " + customer.name + " team! Ask me anything about Orbitly, your plan or your account.",
      newConversation: fresh,
    });
  }

  /** What a host application's backend does when the widget's token expires: mint a new one. */
  function freshToken(customerId) {
    return fetch("/api/demo/customers", { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { data: [] };
      })
      .then(function (body) {
        var match = (Array.isArray(body.data) ? body.data : []).filter(function (c) {
          return c.id === customerId;
        })[0];
        return match ? match.token : null;
      });
  }

  select.addEventListener("change", function () {
    var chosen = customers.filter(function (c) {
      return c.id === select.value;
    })[0];
    if (chosen) start(chosen, true);
  });

  fetch("/api/demo/customers", { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    })
    .then(function (body) {
      customers = Array.isArray(body.data) ? body.data : [];
      if (!customers.length) {
        startAnonymous("No demo customers are seeded; chatting as an anonymous visitor.");
        return;
      }
      select.textContent = "";
      customers.forEach(function (customer) {
        // new Option sets text, not HTML.
        select.appendChild(new Option(customer.name + " (" + capitalise(customer.plan) + ")", customer.id));
      });
      var previous = remembered();
      var initial = customers.filter(function (c) {
        return c.id === previous;
      })[0] || customers[0];
      select.value = initial.id;
      select.disabled = false;
      start(initial, false);
    })
    .catch(function () {
      startAnonymous("Could not load the demo customers; chatting as an anonymous visitor.");
    });
})();

/*
 * Keepwell chat widget: a launcher button and a chat panel, vanilla JS without dependencies.
 *
 *   KeepwellWidget.init({apiBase: "", token, refreshToken, title, subtitle, greeting, newConversation});
 *
 * `token` is the customer identity token the host application minted (omit it for anonymous visitors);
 * `refreshToken`, optional, returns a Promise of a fresh one when the token expires. The legacy
 * `customerId` + `signature` pair still works where the server allows static signatures.
 *
 * The conversation lives on the server: the widget shows its history after a reload (or on another device), and
 * a live stream of new messages (a late answer after a notice, a person's reply) while the page is open. Every
 * message carries an id the widget makes, so a resend after a network failure is never answered twice.
 * Calling init again replaces the widget (for example when the signed-in customer changes).
 * Every text from the user or the bot is set with textContent, never parsed as HTML.
 */
(function (global) {
  "use strict";

  var MAX_CHARS = 2000;
  var REQUEST_TIMEOUT_MS = 20000;
  var SEND_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
  var STREAM_RETRY_MAX_MS = 30000;
  var STORAGE_PREFIX = "keepwell.";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var TEXT = {
    unverified: "Your sign-in could not be verified. Please reload the page or sign in again.",
    slowDown: "You're sending messages a little fast. Please slow down and try again in a moment.",
    unavailable: "We couldn't reach the chat service. Your message was not sent; try again in a moment.",
    rejected: "That message could not be sent.",
    sending: "Sending…",
    notSent: "Not sent.",
    retry: "Retry",
    inReplyTo: "Re: ",
    person: "Customer success team",
    rate: "Your rating",
    rateComment: "Anything to add? (optional)",
    rateSend: "Send rating",
    rateThanks: "Thank you for your rating.",
    rateDone: "This question was already answered.",
    rateFailed: "Your rating could not be sent. Try again in a moment.",
    placeholder: "Write a message…",
    hint: "Enter to send · Shift+Enter for a new line",
    typing: "The assistant is typing",
    newTab: "(opens in a new tab)",
  };

  var current = null;

  // ---- small helpers -------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = String(value);
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function icon(pathData) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z",
    close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z",
    send: "M3 20.5V14l9-2-9-2V3.5L22 12z",
    restart: "M12 5V2L7 6l5 4V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z",
  };

  // Storage can be unavailable (privacy modes, full quota): the widget then simply forgets on reload.
  function storageGet(kind, key) {
    try {
      return global[kind].getItem(STORAGE_PREFIX + key);
    } catch (error) {
      return null;
    }
  }

  function storageSet(kind, key, value) {
    try {
      if (value === null) global[kind].removeItem(STORAGE_PREFIX + key);
      else global[kind].setItem(STORAGE_PREFIX + key, value);
    } catch (error) {
      /* ignore: see storageGet */
    }
  }

  // Only site-relative paths and https URLs become links; anything else (javascript:, data:, //host) stays text.
  function safeHref(url) {
    if (typeof url !== "string") return null;
    if (url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\") return url;
    if (url.indexOf("https://") === 0) return url;
    return null;
  }

  function detailOf(body) {
    if (!body) return null;
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail
        .map(function (item) {
          return item && item.msg ? item.msg : String(item);
        })
        .join("; ");
    }
    return null;
  }

  // Keep only what the widget renders, with the expected types, whatever the server sent.
  var ROLES = { customer: true, bot: true, agent: true, system: true };

  function cleanMessage(raw) {
    raw = raw || {};
    return {
      id: typeof raw.id === "number" && raw.id > 0 ? raw.id : null, // 0: a notice the log could not be read back for
      role: ROLES[raw.role] === true ? raw.role : "bot",
      state: typeof raw.state === "string" ? raw.state : "",
      messageId: typeof raw.message_id === "string" ? raw.message_id : null,
      replyTo: typeof raw.reply_to === "number" ? raw.reply_to : null,
      text: typeof raw.text === "string" ? raw.text : "",
      author: raw.role === "agent" && typeof raw.author === "string" && raw.author ? raw.author : null,
      kind: raw.kind === "csat" ? "csat" : null,
      buttons: (Array.isArray(raw.buttons) ? raw.buttons : [])
        .filter(function (b) {
          return b && typeof b.title === "string" && typeof b.payload === "string";
        })
        .map(function (b) {
          return { title: b.title, payload: b.payload };
        }),
      sources: (Array.isArray(raw.sources) ? raw.sources : [])
        .filter(function (s) {
          return s && typeof s.url === "string";
        })
        .map(function (s) {
          return { title: typeof s.title === "string" && s.title ? s.title : s.url, url: s.url };
        }),
    };
  }

  // A message id the server accepts (8-64 of A-Z a-z 0-9 _ -): 128 random bits, base64url.
  function newMessageId() {
    var bytes = new Uint8Array(16);
    global.crypto.getRandomValues(bytes);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return global.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** The `exp` claim (seconds since the epoch) of a JWT, or null. */
  function tokenExpiry(token) {
    if (typeof token !== "string") return null;
    var parts = token.split(".");
    if (parts.length !== 3) return null;
    try {
      var json = global.atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
      var exp = JSON.parse(json).exp;
      return typeof exp === "number" ? exp : null;
    } catch (error) {
      return null;
    }
  }

  function wait(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  /** Split a server-sent-events text stream into events ({id, event, data}); returns the unparsed rest. */
  function parseEvents(buffer, onEvent) {
    var blocks = buffer.split(/\r?\n\r?\n/);
    var rest = blocks.pop();
    blocks.forEach(function (block) {
      var event = { id: null, event: "message", data: [] };
      block.split(/\r?\n/).forEach(function (line) {
        if (!line || line.charAt(0) === ":") return;
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") event.data.push(value);
        else if (field === "id") event.id = value;
        else if (field === "event") event.event = value;
      });
      if (event.data.length) onEvent({ id: event.id, event: event.event, data: event.data.join("\n") });
    });
    return rest;
  }

  // ---- the widget ----------------------------------------------------------------------------------------

  function Widget(options) {
    options = options || {};
    this.apiBase = String(options.apiBase || "").replace(/\/+$/, "");
    this.token = options.token ? String(options.token) : null;
    this.refreshToken = typeof options.refreshToken === "function" ? options.refreshToken : null;
    this.customerId = options.customerId ? String(options.customerId) : null;
    this.signature = options.signature ? String(options.signature) : null;
    this.title = options.title || "Chat with us";
    this.subtitle = options.subtitle || "";
    this.greeting = options.greeting || "";
    this.identity = options.identityKey || (this.customerId ? "customer:" + this.customerId : this.token ? "token" : "anon");
    this.busy = false;
    this.alive = true;
    this.rendered = {}; // server message id -> node
    this.byClientId = {}; // the widget's message id -> node of a customer message it sent
    this.lastId = 0;
    this.lastCustomerNode = null;
    this.stream = null;
    this.refreshTimer = null;
    if (options.newConversation) this.forgetConversation();
    this.scheduleRefresh();
    this.mount();
    this.renderGreeting();
    if (storageGet("sessionStorage", "open") === "1") this.open(false);
    if (this.conversationId()) this.loadHistory();
  }

  Widget.prototype.conversationKey = function () {
    return "conversation." + this.identity;
  };

  Widget.prototype.conversationId = function () {
    return storageGet("localStorage", this.conversationKey());
  };

  Widget.prototype.forgetConversation = function () {
    storageSet("localStorage", this.conversationKey(), null);
    this.closeStream();
  };

  // ---- identity --------------------------------------------------------------------------------------------

  /** The proof of who the customer is, for the history and the stream (chat sends it in the body). */
  Widget.prototype.authHeaders = function () {
    if (this.token) return { Authorization: "Bearer " + this.token };
    if (this.customerId && this.signature) return { Authorization: "Signature " + this.customerId + ":" + this.signature };
    return {};
  };

  /** Ask the host page for a fresh token (before this one expires, or after a 401); resolves true when renewed. */
  Widget.prototype.renewToken = function () {
    var self = this;
    if (!this.token || !this.refreshToken) return Promise.resolve(false);
    return Promise.resolve()
      .then(function () {
        return self.refreshToken();
      })
      .then(function (token) {
        if (typeof token !== "string" || !token || token === self.token) return false;
        self.token = token;
        self.scheduleRefresh();
        return true;
      })
      .catch(function () {
        return false;
      });
  };

  /** Renew the token a minute before its `exp` (read from the token itself; the widget never checks its signature). */
  Widget.prototype.scheduleRefresh = function () {
    var self = this;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    var expires = tokenExpiry(this.token);
    if (!expires || !this.refreshToken) return;
    var delay = Math.max(5000, expires * 1000 - Date.now() - 60000);
    this.refreshTimer = setTimeout(function () {
      if (self.alive) self.renewToken();
    }, Math.min(delay, 2147483000));
  };

  Widget.prototype.request = function (path, init) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    init = init || {};
    init.signal = controller ? controller.signal : undefined;
    init.credentials = "omit"; // identity travels as a token, never as cookies: the widget can live on any origin
    return fetch(this.apiBase + path, init)
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (json) {
            return { status: response.status, body: json, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
          });
      })
      .catch(function () {
        return { status: 0, body: null, retryAfter: 0 };
      })
      .finally(function () {
        if (timer) clearTimeout(timer);
      });
  };

  Widget.prototype.mount = function () {
    var self = this;
    this.launcher = el("button", {
      type: "button",
      id: "kw-launcher",
      "data-testid": "kw-launcher",
      className: "kw-launcher",
      "aria-controls": "kw-panel",
      "aria-expanded": "false",
      "aria-label": "Open chat: " + this.title,
    }, [icon(ICONS.chat), icon(ICONS.close)]);

    this.messages = el("div", {
      id: "kw-messages",
      "data-testid": "kw-messages",
      className: "kw-messages",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": "Conversation",
    });
    this.typing = el("div", { id: "kw-typing", className: "kw-typing", role: "status", hidden: true }, [
      el("span", { className: "kw-visually-hidden", text: TEXT.typing }),
      el("span", { className: "kw-dot", "aria-hidden": "true" }),
      el("span", { className: "kw-dot", "aria-hidden": "true" }),
      el("span", { className: "kw-dot", "aria-hidden": "true" }),
    ]);
    this.error = el("div", { id: "kw-error", "data-testid": "kw-error", className: "kw-error", role: "alert", hidden: true });
    this.body = el("div", { className: "kw-body" }, [this.messages, this.typing, this.error]);

    this.input = el("textarea", {
      id: "kw-input",
      "data-testid": "kw-input",
      className: "kw-input",
      name: "message",
      rows: "1",
      maxlength: String(MAX_CHARS),
      placeholder: TEXT.placeholder,
      "aria-describedby": "kw-hint kw-counter",
      autocomplete: "off",
    });
    this.counter = el("span", { id: "kw-counter", className: "kw-counter", text: "0 / " + MAX_CHARS });
    this.sendButton = el("button", {
      type: "submit",
      id: "kw-send",
      "data-testid": "kw-send",
      className: "kw-send",
      "aria-label": "Send message",
      disabled: true,
    }, [icon(ICONS.send)]);
    this.form = el("form", { className: "kw-composer", novalidate: true }, [
      el("label", { for: "kw-input", className: "kw-visually-hidden", text: "Message" }),
      el("div", { className: "kw-composer-row" }, [this.input, this.sendButton]),
      el("div", { className: "kw-composer-footer" }, [
        el("span", { id: "kw-hint", className: "kw-hint", text: TEXT.hint }),
        this.counter,
      ]),
    ]);

    this.closeButton = el("button", { type: "button", id: "kw-close", className: "kw-icon-button", "aria-label": "Close chat" }, [icon(ICONS.close)]);
    this.restartButton = el("button", {
      type: "button",
      id: "kw-restart",
      className: "kw-icon-button",
      "aria-label": "Start a new conversation",
      title: "Start a new conversation",
    }, [icon(ICONS.restart)]);
    var header = el("div", { className: "kw-header" }, [
      el("div", { className: "kw-header-text" }, [
        el("h2", { id: "kw-title", className: "kw-title", text: this.title }),
        this.subtitle ? el("p", { id: "kw-subtitle", className: "kw-subtitle", text: this.subtitle }) : null,
      ]),
      this.restartButton,
      this.closeButton,
    ]);

    this.panel = el("section", {
      id: "kw-panel",
      "data-testid": "kw-panel",
      className: "kw-panel",
      role: "dialog",
      "aria-labelledby": "kw-title",
      hidden: true,
    }, [header, this.body, this.form]);

    this.root = el("div", { className: "kw-root", "data-identity": this.customerId ? "customer" : "anon" }, [this.panel, this.launcher]);
    document.body.appendChild(this.root);

    this.launcher.addEventListener("click", function () {
      if (self.isOpen()) self.close();
      else self.open(true);
    });
    this.closeButton.addEventListener("click", function () {
      self.close();
    });
    this.restartButton.addEventListener("click", function () {
      self.restart();
    });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") self.close();
    });
    this.input.addEventListener("input", function () {
      self.updateComposer();
    });
    this.input.addEventListener("keydown", function (event) {
      // isComposing: Enter that confirms an IME composition must not send.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submitTyped();
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submitTyped();
    });
  };

  Widget.prototype.destroy = function () {
    this.alive = false;
    this.closeStream();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.root && this.root.parentNode) this.root.parentNode.removeChild(this.root);
    this.root = null;
  };

  Widget.prototype.isOpen = function () {
    return !this.panel.hidden;
  };

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.root.classList.add("kw-open");
    this.root.classList.remove("kw-unread");
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat");
    storageSet("sessionStorage", "open", "1");
    this.scrollToEnd();
    if (focus) this.input.focus();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.root.classList.remove("kw-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", "Open chat: " + this.title);
    storageSet("sessionStorage", "open", null);
    this.launcher.focus();
  };

  Widget.prototype.restart = function () {
    if (this.busy) return;
    this.forgetConversation();
    this.clearError();
    this.rendered = {};
    this.byClientId = {};
    this.lastId = 0;
    this.lastCustomerNode = null;
    this.renderGreeting();
    this.input.focus();
  };

  Widget.prototype.updateComposer = function () {
    var length = this.input.value.length;
    this.counter.textContent = length + " / " + MAX_CHARS;
    this.counter.classList.toggle("kw-counter-near", length >= MAX_CHARS * 0.9);
    this.sendButton.disabled = this.busy || this.input.value.trim() === "";
    // Grow with the text up to the CSS max-height, then scroll.
    this.input.style.height = "auto";
    this.input.style.height = this.input.scrollHeight + "px";
  };

  Widget.prototype.scrollToEnd = function () {
    this.body.scrollTop = this.body.scrollHeight;
  };

  // ---- the conversation on the server ----------------------------------------------------------------------

  /** Show what the server has logged (after a reload, or on another device), then listen for what comes next. */
  Widget.prototype.loadHistory = function () {
    var self = this;
    var conversationId = this.conversationId();
    return this.request("/api/conversations/" + encodeURIComponent(conversationId) + "/messages?limit=500", {
      headers: Object.assign({ Accept: "application/json" }, this.authHeaders()),
    }).then(function (result) {
      if (!self.alive || self.conversationId() !== conversationId) return;
      if (result.status === 401) {
        return self.renewToken().then(function (renewed) {
          if (renewed) return self.loadHistory();
          self.showError(TEXT.unverified);
        });
      }
      if (result.status === 403 || result.status === 404) {
        self.forgetConversation(); // gone, or someone else's: the next message starts a new one
        return;
      }
      if (result.status === 200 && result.body && Array.isArray(result.body.data)) {
        result.body.data.forEach(function (raw) {
          self.receive(cleanMessage(raw));
        });
      }
      self.openStream();
    });
  };

  /** Listen for new messages (server-sent events read with fetch, so the token can travel in a header). */
  Widget.prototype.openStream = function () {
    var self = this;
    var conversationId = this.conversationId();
    if (!conversationId || this.stream || !this.alive || typeof ReadableStream === "undefined") return;
    var controller = new AbortController();
    var stream = { controller: controller, failures: 0 };
    this.stream = stream;
    var buffer = "";
    var decoder = new TextDecoder();

    function reconnect() {
      if (self.stream !== stream || !self.alive) return;
      stream.failures += 1;
      var delay = Math.min(STREAM_RETRY_MAX_MS, 1000 * Math.pow(2, Math.min(stream.failures, 5)));
      self.stream = null;
      setTimeout(function () {
        if (self.alive && !self.stream && self.conversationId() === conversationId) self.openStream();
      }, delay);
    }

    fetch(this.apiBase + "/api/conversations/" + encodeURIComponent(conversationId) + "/events", {
      headers: Object.assign({ Accept: "text/event-stream", "Last-Event-ID": String(this.lastId) }, this.authHeaders()),
      credentials: "omit",
      signal: controller.signal,
    })
      .then(function (response) {
        if (response.status === 401) {
          self.stream = null;
          return self.renewToken().then(function (renewed) {
            if (renewed) self.openStream();
          });
        }
        if (response.status === 403 || response.status === 404) {
          self.stream = null;
          return;
        }
        if (!response.ok || !response.body) return reconnect();
        stream.failures = 0;
        var reader = response.body.getReader();
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return reconnect(); // the server ends streams after a while: pick up where we were
            buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), function (event) {
              if (event.event !== "message") return;
              try {
                self.receive(cleanMessage(JSON.parse(event.data)), true);
              } catch (error) {
                /* a malformed event is skipped; the history has the message */
              }
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        reconnect();
      });
  };

  Widget.prototype.closeStream = function () {
    if (this.stream) this.stream.controller.abort();
    this.stream = null;
  };

  /** A message from the server (the chat answer, the history or the stream): shown once, whatever the path. */
  Widget.prototype.receive = function (message, live) {
    if (message.id !== null && this.rendered[message.id]) {
      this.updateState(this.rendered[message.id], message);
      return;
    }
    var node = message.role === "customer" && message.messageId ? this.byClientId[message.messageId] : null;
    if (node) {
      this.updateState(node, message);
    } else {
      node = this.renderMessage(message);
    }
    if (message.id !== null) {
      this.rendered[message.id] = node;
      this.lastId = Math.max(this.lastId, message.id);
    }
    if (message.role === "customer") this.disableOldButtons(node);
    if (live && message.role !== "customer" && !this.isOpen()) {
      this.root.classList.add("kw-unread");
      this.launcher.setAttribute("aria-label", "Open chat: " + this.title + " (new message)");
    }
  };

  Widget.prototype.updateState = function (node, message) {
    node.setAttribute("data-state", message.state || "");
    if (message.id !== null) node.setAttribute("data-id", String(message.id));
    var status = node.querySelector(".kw-status");
    if (status && message.role === "customer") status.parentNode.removeChild(status);
  };

  /** Suggested replies above the latest customer message have been answered: no longer clickable. */
  Widget.prototype.disableOldButtons = function (customerNode) {
    var node = customerNode.previousSibling;
    while (node) {
      Array.prototype.forEach.call(node.querySelectorAll ? node.querySelectorAll(".kw-button") : [], function (chip) {
        chip.disabled = true;
      });
      node = node.previousSibling;
    }
  };

  // ---- rendering -----------------------------------------------------------------------------------------

  Widget.prototype.renderGreeting = function () {
    this.messages.textContent = "";
    if (this.greeting) {
      this.messages.appendChild(
        el("div", { className: "kw-msg kw-msg-greeting", "data-testid": "kw-greeting" }, [
          el("p", { className: "kw-text", text: this.greeting }),
        ])
      );
    }
  };

  var ROLE_CLASS = { customer: "kw-msg-user", bot: "kw-msg-bot", agent: "kw-msg-agent", system: "kw-msg-system" };

  Widget.prototype.renderMessage = function (message) {
    var self = this;
    var node = el("div", {
      className: "kw-msg " + ROLE_CLASS[message.role],
      "data-testid": ROLE_CLASS[message.role],
      "data-state": message.state || null,
      "data-id": message.id !== null ? String(message.id) : null,
    });
    if (message.role === "agent") {
      // A person wrote this: their name (as text, like everything else), then the team they are from.
      var author = message.author ? message.author + " · " + TEXT.person : TEXT.person;
      node.appendChild(el("p", { className: "kw-author", "data-testid": "kw-author", text: author }));
    }
    var question = message.state === "late" && message.replyTo ? this.rendered[message.replyTo] : null;
    if (question) {
      // A late answer may arrive after newer messages: say which question it answers.
      var asked = question.querySelector(".kw-text").textContent;
      node.appendChild(el("p", { className: "kw-quote", text: TEXT.inReplyTo + (asked.length > 80 ? asked.slice(0, 79) + "…" : asked) }));
    }
    node.appendChild(el("p", { className: "kw-text", text: message.text || "" }));
    if (message.sources && message.sources.length) node.appendChild(this.renderSources(message.sources));
    if (message.kind === "csat") node.appendChild(this.renderRating());
    if (message.buttons && message.buttons.length) {
      var group = el("div", { className: "kw-buttons", role: "group", "aria-label": "Suggested replies" });
      message.buttons.forEach(function (button) {
        var chip = el("button", { type: "button", className: "kw-button", "data-testid": "kw-button", text: button.title });
        chip.addEventListener("click", function () {
          self.send(button.payload, button.title, false);
        });
        group.appendChild(chip);
      });
      node.appendChild(group);
    }
    this.messages.appendChild(node);
    this.scrollToEnd();
    return node;
  };

  /** The CSAT question's form: a score from 1 to 5 and an optional comment, posted once. */
  Widget.prototype.renderRating = function () {
    var self = this;
    var chosen = null;
    var form = el("form", { className: "kw-rating", "data-testid": "kw-rating" });
    var scale = el("div", { className: "kw-buttons", role: "group", "aria-label": TEXT.rate });
    var scores = [];
    [1, 2, 3, 4, 5].forEach(function (score) {
      var chip = el("button", {
        type: "button",
        className: "kw-button kw-score",
        "data-testid": "kw-score-" + score,
        "aria-pressed": "false",
        text: String(score),
      });
      chip.addEventListener("click", function () {
        chosen = score;
        scores.forEach(function (other) {
          other.setAttribute("aria-pressed", other === chip ? "true" : "false");
        });
        submit.disabled = false;
      });
      scores.push(chip);
      scale.appendChild(chip);
    });
    var comment = el("textarea", {
      className: "kw-rating-comment",
      "data-testid": "kw-rating-comment",
      rows: "2",
      maxlength: "1000",
      placeholder: TEXT.rateComment,
      "aria-label": TEXT.rateComment,
    });
    var submit = el("button", { type: "submit", className: "kw-button", "data-testid": "kw-rating-send", text: TEXT.rateSend });
    submit.disabled = true;
    var status = el("p", { className: "kw-status", "data-testid": "kw-rating-status", role: "status" });
    form.appendChild(scale);
    form.appendChild(comment);
    form.appendChild(submit);
    form.appendChild(status);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (chosen === null) return;
      submit.disabled = true;
      var conversationId = self.conversationId();
      self
        .request("/api/conversations/" + encodeURIComponent(conversationId) + "/csat", {
          method: "POST",
          headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, self.authHeaders()),
          body: JSON.stringify({ score: chosen, comment: comment.value.trim() || null }),
        })
        .then(function (result) {
          if (result.status === 200 || result.status === 409) {
            form.textContent = "";
            form.appendChild(el("p", { className: "kw-text", "data-testid": "kw-rating-done", text: result.status === 200 ? TEXT.rateThanks : TEXT.rateDone }));
            return;
          }
          status.textContent = detailOf(result.body) || TEXT.rateFailed;
          submit.disabled = false;
        });
    });
    return form;
  };

  Widget.prototype.renderSources = function (sourcesList) {
    var sources = el("ul", { className: "kw-sources" });
    sourcesList.forEach(function (source) {
      var href = safeHref(source.url);
      var item = el("li", { className: "kw-source-item" }, [el("span", { text: "Source: " })]);
      if (href) {
        var external = href.charAt(0) !== "/";
        var link = el("a", {
          className: "kw-source",
          "data-testid": "kw-source",
          href: href,
          target: external ? "_blank" : null,
          rel: external ? "noopener noreferrer" : null,
          text: source.title,
        });
        if (external) link.appendChild(el("span", { className: "kw-visually-hidden", text: " " + TEXT.newTab }));
        item.appendChild(link);
      } else {
        item.appendChild(el("span", { text: source.title }));
      }
      sources.appendChild(item);
    });
    return sources;
  };

  /** A line under a customer message while it is on its way ("Sending…"), or when it could not be sent. */
  Widget.prototype.setStatus = function (node, text, onRetry) {
    var status = node.querySelector(".kw-status");
    if (!text) {
      if (status) status.parentNode.removeChild(status);
      return;
    }
    if (!status) {
      status = el("p", { className: "kw-status", "data-testid": "kw-status", role: "status" });
      node.appendChild(status);
    }
    status.textContent = text;
    if (onRetry) {
      var retry = el("button", { type: "button", className: "kw-retry", "data-testid": "kw-retry", text: TEXT.retry });
      retry.addEventListener("click", onRetry);
      status.appendChild(document.createTextNode(" "));
      status.appendChild(retry);
    }
  };

  Widget.prototype.showError = function (text) {
    this.error.textContent = text;
    this.error.hidden = false;
    this.scrollToEnd();
  };

  Widget.prototype.clearError = function () {
    this.error.textContent = "";
    this.error.hidden = true;
  };

  Widget.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.typing.hidden = !busy;
    this.panel.setAttribute("aria-busy", busy ? "true" : "false");
    this.updateComposer();
    this.scrollToEnd();
  };

  // ---- sending -------------------------------------------------------------------------------------------

  Widget.prototype.submitTyped = function () {
    var text = this.input.value;
    if (this.busy || text.trim() === "") return;
    this.input.value = "";
    this.updateComposer();
    this.send(text, text, true);
  };

  /**
   * Send `message` (what the server gets) showing `shown` as the customer's bubble. The message keeps one id for
   * all its attempts, so the server answers it once however often it is resent.
   */
  Widget.prototype.send = function (message, shown, typed) {
    if (this.busy) return Promise.resolve(false);
    this.clearError();
    var outgoing = { message: message, shown: shown, typed: typed, id: newMessageId(), conversationId: this.conversationId() };
    outgoing.node = this.renderMessage({ id: null, role: "customer", text: shown, state: "sending", messageId: outgoing.id });
    this.byClientId[outgoing.id] = outgoing.node;
    this.disableOldButtons(outgoing.node);
    return this.deliver(outgoing, 0);
  };

  Widget.prototype.deliver = function (outgoing, attempt) {
    var self = this;
    this.setBusy(true);
    if (!outgoing.conversationId) return this.startConversation(outgoing, attempt);
    var body = { message: outgoing.message, message_id: outgoing.id, conversation_id: outgoing.conversationId };
    if (this.token) body.token = this.token;
    else if (this.customerId) {
      body.customer_id = this.customerId;
      body.signature = this.signature;
    }
    return this.request("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (result) {
      if (!self.alive) return false;
      if (result.status === 200 && result.body && typeof result.body.conversation_id === "string") {
        self.setStatus(outgoing.node, null);
        self.receive(cleanMessage(result.body.message));
        (Array.isArray(result.body.messages) ? result.body.messages : []).forEach(function (raw) {
          self.receive(cleanMessage(raw));
        });
        self.setBusy(false);
        self.openStream();
        return true;
      }
      if ((result.status === 403 || result.status === 404) && attempt === 0) {
        // The stored conversation is gone or belongs to another identity: start a new one, once.
        self.forgetConversation();
        outgoing.conversationId = null;
        return self.deliver(outgoing, attempt + 1);
      }
      if (result.status === 422 || result.status === 409 || result.status === 403 || result.status === 404) {
        return self.rejected(outgoing, result);
      }
      return self.failed(outgoing, attempt, result);
    });
  };

  /**
   * Every message names its conversation, the first one too, so that resending it is always safe: start an empty
   * conversation first (doing that twice after a lost answer only leaves an empty one behind).
   */
  Widget.prototype.startConversation = function (outgoing, attempt) {
    var self = this;
    return this.request("/api/conversations", {
      method: "POST",
      headers: Object.assign({ Accept: "application/json" }, this.authHeaders()),
    }).then(function (result) {
      if (!self.alive) return false;
      if (result.status === 201 && result.body && typeof result.body.conversation_id === "string") {
        storageSet("localStorage", self.conversationKey(), result.body.conversation_id);
        outgoing.conversationId = result.body.conversation_id;
        return self.deliver(outgoing, attempt);
      }
      return self.failed(outgoing, attempt, result);
    });
  };

  /** No answer, a server error, an expired token or too many messages: renew, or resend the same message later. */
  Widget.prototype.failed = function (outgoing, attempt, result) {
    var self = this;
    if (result.status === 401) {
      return this.renewToken().then(function (renewed) {
        if (renewed) return self.deliver(outgoing, attempt);
        return self.notSent(outgoing, TEXT.unverified, false);
      });
    }
    if (attempt < SEND_RETRY_DELAYS_MS.length) {
      var delay = result.status === 429 && result.retryAfter ? result.retryAfter * 1000 : SEND_RETRY_DELAYS_MS[attempt];
      this.setStatus(outgoing.node, TEXT.sending);
      return wait(delay).then(function () {
        return self.alive ? self.deliver(outgoing, attempt + 1) : false;
      });
    }
    return this.notSent(outgoing, result.status === 429 ? TEXT.slowDown : TEXT.unavailable, true);
  };

  /** Gave up for now: the bubble stays with a Retry button that resends the same message (same id). */
  Widget.prototype.notSent = function (outgoing, errorText, retryable) {
    var self = this;
    this.setBusy(false);
    this.setStatus(outgoing.node, TEXT.notSent, retryable ? function () {
      if (self.busy) return;
      self.clearError();
      self.setStatus(outgoing.node, TEXT.sending);
      self.deliver(outgoing, 0);
    } : null);
    this.showError(errorText);
    return false;
  };

  /** The server refused the message itself (422, 409): it was never accepted, so the text goes back to the box. */
  Widget.prototype.rejected = function (outgoing, result) {
    this.setBusy(false);
    if (outgoing.node.parentNode) outgoing.node.parentNode.removeChild(outgoing.node);
    delete this.byClientId[outgoing.id];
    if (outgoing.typed) {
      var now = this.input.value;
      this.input.value = now ? outgoing.shown + "\n" + now : outgoing.shown;
      this.updateComposer();
      this.input.focus();
    }
    this.showError(result.status === 422 ? detailOf(result.body) || TEXT.rejected : TEXT.rejected);
    return false;
  };

  // ---- public API ----------------------------------------------------------------------------------------

  global.KeepwellWidget = {
    version: "0.2.0",
    /** Mount the widget (replacing one already mounted) and return it. */
    init: function (options) {
      if (current) current.destroy();
      current = new Widget(options);
      return current;
    },
    destroy: function () {
      if (current) current.destroy();
      current = null;
    },
    current: function () {
      return current;
    },
  };
})(window);

/*
 * Keepwell chat widget: a launcher button and a chat panel, vanilla JS without dependencies.
 *
 *   KeepwellWidget.init({apiBase: "", customerId, signature, title, subtitle, greeting, newConversation});
 *
 * Calling init again replaces the widget (for example when the signed-in customer changes).
 * Every text from the user or the bot is set with textContent, never parsed as HTML.
 */
(function (global) {
  "use strict";

  var MAX_CHARS = 2000;
  var REQUEST_TIMEOUT_MS = 45000;
  var MAX_STORED_MESSAGES = 200;
  var STORAGE_PREFIX = "keepwell.";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var TEXT = {
    unverified: "Your sign-in could not be verified. Please reload the page or sign in again.",
    slowDown: "You're sending messages a little fast. Please slow down and try again in a moment.",
    unavailable: "The assistant is unavailable right now. Please try again in a moment.",
    rejected: "That message could not be sent.",
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
  function cleanMessage(raw) {
    raw = raw || {};
    return {
      role: "bot",
      text: typeof raw.text === "string" ? raw.text : "",
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

  // ---- the widget ----------------------------------------------------------------------------------------

  function Widget(options) {
    options = options || {};
    this.apiBase = String(options.apiBase || "").replace(/\/+$/, "");
    this.customerId = options.customerId ? String(options.customerId) : null;
    this.signature = options.signature ? String(options.signature) : null;
    this.title = options.title || "Chat with us";
    this.subtitle = options.subtitle || "";
    this.greeting = options.greeting || "";
    this.identity = this.customerId ? "customer:" + this.customerId : "anon";
    this.busy = false;
    this.transcript = [];
    if (options.newConversation) this.forgetConversation();
    this.transcript = this.loadTranscript();
    this.mount();
    this.renderTranscript();
    if (storageGet("sessionStorage", "open") === "1") this.open(false);
  }

  Widget.prototype.conversationKey = function () {
    return "conversation." + this.identity;
  };

  Widget.prototype.transcriptKey = function () {
    return "transcript." + this.identity;
  };

  Widget.prototype.conversationId = function () {
    return storageGet("localStorage", this.conversationKey());
  };

  Widget.prototype.forgetConversation = function () {
    storageSet("localStorage", this.conversationKey(), null);
    storageSet("sessionStorage", this.transcriptKey(), null);
    this.transcript = [];
  };

  Widget.prototype.loadTranscript = function () {
    var raw = storageGet("sessionStorage", this.transcriptKey());
    if (!raw) return [];
    try {
      var parsed = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed : [];
    } catch (error) {
      return [];
    }
  };

  Widget.prototype.saveTranscript = function () {
    this.transcript = this.transcript.slice(-MAX_STORED_MESSAGES);
    storageSet("sessionStorage", this.transcriptKey(), JSON.stringify(this.transcript));
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
    if (this.root && this.root.parentNode) this.root.parentNode.removeChild(this.root);
    this.root = null;
  };

  Widget.prototype.isOpen = function () {
    return !this.panel.hidden;
  };

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.root.classList.add("kw-open");
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
    this.renderTranscript();
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

  // ---- rendering -----------------------------------------------------------------------------------------

  Widget.prototype.renderTranscript = function () {
    this.messages.textContent = "";
    if (this.greeting) {
      this.messages.appendChild(
        el("div", { className: "kw-msg kw-msg-greeting", "data-testid": "kw-greeting" }, [
          el("p", { className: "kw-text", text: this.greeting }),
        ])
      );
    }
    var lastUser = -1;
    this.transcript.forEach(function (message, index) {
      if (message.role === "user") lastUser = index;
    });
    var self = this;
    this.transcript.forEach(function (message, index) {
      // Buttons answered by a later user message are shown but no longer clickable.
      self.renderMessage(message, index < lastUser);
    });
    this.scrollToEnd();
  };

  Widget.prototype.renderMessage = function (message, buttonsUsed) {
    var self = this;
    var isUser = message.role === "user";
    var node = el("div", {
      className: "kw-msg " + (isUser ? "kw-msg-user" : "kw-msg-bot"),
      "data-testid": isUser ? "kw-msg-user" : "kw-msg-bot",
    }, [el("p", { className: "kw-text", text: message.text || "" })]);
    if (!isUser && message.sources && message.sources.length) {
      var sources = el("ul", { className: "kw-sources" });
      message.sources.forEach(function (source) {
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
      node.appendChild(sources);
    }
    if (!isUser && message.buttons && message.buttons.length) {
      var group = el("div", { className: "kw-buttons", role: "group", "aria-label": "Suggested replies" });
      message.buttons.forEach(function (button) {
        var chip = el("button", {
          type: "button",
          className: "kw-button",
          "data-testid": "kw-button",
          text: button.title,
          disabled: buttonsUsed ? true : null,
        });
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

  Widget.prototype.post = function (message, conversationId) {
    var body = { message: message, conversation_id: conversationId || null };
    if (this.customerId) {
      body.customer_id = this.customerId;
      body.signature = this.signature;
    }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return fetch(this.apiBase + "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (json) {
            return { status: response.status, body: json };
          });
      })
      .finally(function () {
        if (timer) clearTimeout(timer);
      });
  };

  /**
   * Send `message` (what the server gets) showing `shown` as the user's bubble. `typed` messages go back into the
   * input when sending fails, so nothing the user wrote is lost.
   */
  Widget.prototype.send = function (message, shown, typed) {
    var self = this;
    if (this.busy) return Promise.resolve(false);
    this.clearError();
    var pending = Array.prototype.filter.call(this.messages.querySelectorAll(".kw-button"), function (chip) {
      return !chip.disabled;
    });
    pending.forEach(function (chip) {
      chip.disabled = true;
    });
    var bubble = this.renderMessage({ role: "user", text: shown });
    this.setBusy(true);

    var stored = this.conversationId();
    return this.post(message, stored)
      .then(function (result) {
        // The stored conversation is gone or belongs to another identity: start a new one, once.
        if (stored && (result.status === 403 || result.status === 404)) {
          storageSet("localStorage", self.conversationKey(), null);
          return self.post(message, null);
        }
        return result;
      })
      .catch(function () {
        return { status: 0, body: null };
      })
      .then(function (result) {
        self.setBusy(false);
        if (result.status === 200 && result.body && typeof result.body.conversation_id === "string") {
          storageSet("localStorage", self.conversationKey(), result.body.conversation_id);
          self.transcript.push({ role: "user", text: shown });
          (Array.isArray(result.body.messages) ? result.body.messages : []).forEach(function (raw) {
            var clean = cleanMessage(raw);
            self.transcript.push(clean);
            self.renderMessage(clean, false);
          });
          self.saveTranscript();
          return true;
        }
        bubble.parentNode.removeChild(bubble);
        pending.forEach(function (chip) {
          chip.disabled = false;
        });
        if (typed) {
          var now = self.input.value;
          self.input.value = now ? shown + "\n" + now : shown;
          self.updateComposer();
        }
        self.showError(self.errorText(result));
        if (typed) self.input.focus();
        return false;
      });
  };

  Widget.prototype.errorText = function (result) {
    if (result.status === 401) return TEXT.unverified;
    if (result.status === 422) return detailOf(result.body) || TEXT.rejected;
    if (result.status === 429) return TEXT.slowDown;
    return TEXT.unavailable;
  };

  // ---- public API ----------------------------------------------------------------------------------------

  global.KeepwellWidget = {
    version: "0.1.0",
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

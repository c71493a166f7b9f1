/*! Plaudit widget — thumbs under assistant answers and the end-of-conversation prompt.
 *
 *   <script src="https://plaudit.example.com/widget.js" data-key="plk_..." defer></script>
 *
 *   Plaudit.conversation({ id, token, locale });   // token: from your backend's
 *                                                   // POST /v1/conversations/{id}/feedback-token
 *   Plaudit.rate(element, messageId);              // thumbs under an assistant answer
 *   Plaudit.endConversation();                     // the end-of-conversation prompt
 *
 * Everything renders inside a Shadow DOM, so no style crosses the page boundary,
 * and every piece of text is set with textContent. See docs/widget.md.
 */
(function () {
  'use strict';

  if (window.Plaudit && window.Plaudit.version) {
    return; // loaded twice: keep the first instance and its state
  }

  var script =
    document.currentScript || document.querySelector('script[data-key][src*="widget.js"]');
  var ORIGIN = script ? new URL(script.src, window.location.href).origin : window.location.origin;
  var KEY = script ? script.getAttribute('data-key') || '' : '';
  var SVG = 'http://www.w3.org/2000/svg';

  // Words of the widget itself; the prompt's own copy comes from the bot's settings.
  var STRINGS = {
    en: {
      up: 'Helpful',
      down: 'Not helpful',
      thanks: 'Thanks for your feedback!',
      removed: 'Feedback removed.',
      required: 'Please tell us why.',
      failed: 'Your feedback could not be sent. Please try again.',
      close: 'Close',
      HELPFUL_THUMBS: 'Did this conversation help you?',
      EXPERIENCE_THUMBS: 'How was your experience?',
      SATISFACTION_STARS: 'How satisfied are you?',
      star: function (n) { return n === 1 ? '1 star' : n + ' stars'; }
    },
    fr: {
      up: 'Utile',
      down: 'Pas utile',
      thanks: 'Merci pour votre avis !',
      removed: 'Avis retiré.',
      required: 'Dites-nous pourquoi, s\u2019il vous pla\u00eet.',
      failed: 'Votre avis n\u2019a pas pu \u00eatre envoy\u00e9. R\u00e9essayez.',
      close: 'Fermer',
      HELPFUL_THUMBS: 'Cette conversation vous a-t-elle aid\u00e9 ?',
      EXPERIENCE_THUMBS: 'Comment s\u2019est pass\u00e9e votre exp\u00e9rience ?',
      SATISFACTION_STARS: '\u00cates-vous satisfait ?',
      star: function (n) { return n === 1 ? '1 \u00e9toile' : n + ' \u00e9toiles'; }
    },
    de: {
      up: 'Hilfreich',
      down: 'Nicht hilfreich',
      thanks: 'Danke f\u00fcr Ihr Feedback!',
      removed: 'Feedback entfernt.',
      required: 'Bitte sagen Sie uns, warum.',
      failed: 'Ihr Feedback konnte nicht gesendet werden. Bitte versuchen Sie es erneut.',
      close: 'Schlie\u00dfen',
      HELPFUL_THUMBS: 'Hat Ihnen dieses Gespr\u00e4ch geholfen?',
      EXPERIENCE_THUMBS: 'Wie war Ihre Erfahrung?',
      SATISFACTION_STARS: 'Wie zufrieden sind Sie?',
      star: function (n) { return n === 1 ? '1 Stern' : n + ' Sterne'; }
    }
  };

  var BUILTIN_COPY = {
    title: 'How was this conversation?',
    negative_reason: 'What went wrong?',
    negative_placeholder: 'Tell us what we could do better',
    negative_button: 'Send feedback',
    after_submission: 'Thank you for your feedback!'
  };

  // `all: initial` on the host (important, so the page's rules cannot win)
  // stops inherited properties such as font and color from flowing in.
  var CSS = [
    ':host{all:initial !important;display:block !important}',
    '.root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:14px;line-height:1.4;color:#1f2937;text-align:left}',
    '*{box-sizing:border-box}',
    'button{font:inherit;color:inherit;cursor:pointer;border:1px solid #d1d5db;background:#fff;border-radius:6px;padding:4px 8px;display:inline-flex;align-items:center;gap:4px}',
    'button:hover{background:#f3f4f6}',
    'button:focus-visible,textarea:focus-visible{outline:2px solid #2563eb;outline-offset:2px}',
    'button[aria-pressed="true"]{background:#dbeafe;border-color:#2563eb;color:#1e3a8a}',
    'button[disabled]{opacity:.6;cursor:default}',
    'svg{width:16px;height:16px;fill:currentColor}',
    '.row{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin-top:6px}',
    '.status{font-size:12px;color:#4b5563;margin:4px 0 0}',
    '.status:empty{display:none}',
    'form{margin-top:8px;display:flex;flex-direction:column;gap:6px;max-width:420px}',
    'label{font-weight:600;font-size:13px}',
    'textarea{font:inherit;color:inherit;border:1px solid #d1d5db;border-radius:6px;padding:6px;min-height:60px;resize:vertical;width:100%}',
    '.submit{align-self:flex-start;background:#2563eb;border-color:#2563eb;color:#fff}',
    '.submit:hover{background:#1d4ed8}',
    '.panel{background:#fff;border:1px solid #e5e7eb;border-radius:10px;box-shadow:0 8px 24px rgba(0,0,0,.15);padding:14px 16px;max-width:360px}',
    '.floating{position:fixed;right:16px;bottom:16px;z-index:2147483000}',
    '.head{display:flex;justify-content:space-between;align-items:flex-start;gap:8px}',
    'h2{font-size:16px;margin:0 0 4px;font-weight:650}',
    '.question{margin-top:10px}',
    '.q{font-size:13px;color:#374151}',
    '.close{border:none;background:transparent;font-size:18px;line-height:1;padding:2px 6px}',
    '.stars button{padding:4px 6px;color:#9ca3af}',
    '.stars button.lit{color:#d97706}',
    '.done{margin:6px 0 0}'
  ].join('\n');

  var ICONS = {
    up: 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z',
    down: 'M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1l1.1 1.1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z',
    star: 'M12 17.3 18.2 21l-1.6-7 5.4-4.7-7.2-.6L12 2 9.2 8.7 2 9.3 7.4 14l-1.6 7z'
  };

  // ---------- building blocks ----------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) return;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'className') node.className = value;
      else node.setAttribute(name, value === true ? '' : String(value));
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function icon(name) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function shadowHost(tag) {
    var host = document.createElement(tag);
    var shadow = host.attachShadow({ mode: 'open' });
    var root = el('div', { className: 'root' });
    shadow.appendChild(el('style', { text: CSS }));
    shadow.appendChild(root);
    return { host: host, root: root };
  }

  function strings(locale) {
    var lang = String(locale || '').toLowerCase().split('-')[0];
    return STRINGS[lang] || STRINGS.en;
  }

  function emit(target, name, detail) {
    target.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true, composed: true }));
  }

  function botFromToken(token) {
    // The token's payload is readable (it is signed, not secret): it names the bot.
    try {
      var payload = String(token).split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
      while (payload.length % 4) payload += '=';
      return JSON.parse(atob(payload)).b || null;
    } catch (e) {
      return null;
    }
  }

  // Busy (429) or unavailable (503): try again, up to RETRIES times, after
  // the server's Retry-After when it gives one, else after a backoff that
  // doubles from half a second, each wait spread by a random jitter so that
  // many visitors do not come back at once. Every call here is safe to
  // repeat: the server keeps one thumb, vote or answer per visitor.
  var RETRIES = 4;
  function retryDelay(response, attempt) {
    var after = Number(response.headers.get('Retry-After'));
    var base = after > 0 ? Math.min(after, 30) * 1000 : 500 * Math.pow(2, attempt);
    return base + Math.random() * Math.min(base, 1000);
  }

  async function call(method, path, body, token) {
    var headers = { Authorization: 'Bearer ' + KEY };
    if (token) headers['X-Feedback-Token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    var response;
    for (var attempt = 0; ; attempt++) {
      response = await fetch(ORIGIN + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit'
      });
      if ((response.status !== 429 && response.status !== 503) || attempt >= RETRIES) break;
      await new Promise(function (resolve) { setTimeout(resolve, retryDelay(response, attempt)); });
    }
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      var error = new Error((data && data.message) || 'HTTP ' + response.status);
      error.status = response.status;
      error.code = data && data.error;
      throw error;
    }
    return data;
  }

  // ---------- the conversation ----------

  var current = null;

  function Conversation(options) {
    if (!options || !options.id || !options.token) {
      throw new TypeError('Plaudit.conversation needs {id, token}');
    }
    this.id = String(options.id);
    this.token = String(options.token);
    this.locale = String(options.locale || navigator.language || 'en');
    this.botId = options.botId || botFromToken(this.token);
    this._copy = null;
    this._config = null;
  }

  Conversation.prototype.copy = function () {
    var self = this;
    if (!self._copy) {
      self._copy = self.botId
        ? call('GET', '/v1/bots/' + encodeURIComponent(self.botId) + '/csat-copy/' + encodeURIComponent(self.locale))
            .catch(function () { return BUILTIN_COPY; })
        : Promise.resolve(BUILTIN_COPY);
    }
    return self._copy;
  };

  Conversation.prototype.config = function () {
    if (!this.botId) return Promise.reject(new Error('the bot of this conversation is unknown'));
    if (!this._config) {
      this._config = call('GET', '/v1/bots/' + encodeURIComponent(this.botId) + '/rating-config');
    }
    return this._config;
  };

  function conversation(options) {
    var next = new Conversation(options);
    if (current && current.id === next.id && current.botId === next.botId) {
      // The same conversation with a renewed token: thumbs already shown use it too.
      current.token = next.token;
      if (current.locale !== next.locale) {
        current.locale = next.locale;
        current._copy = null;
      }
      return current;
    }
    current = next;
    return current;
  }

  function need() {
    if (!current) throw new Error('call Plaudit.conversation({id, token, locale}) first');
    return current;
  }

  // A reason form: label, text box, button. `onSubmit(text)` returns a promise.
  function reasonForm(copy, idBase, required, onSubmit) {
    var boxId = idBase + '-reason';
    var box = el('textarea', {
      id: boxId,
      placeholder: copy.negative_placeholder,
      maxlength: 2000,
      'aria-required': required ? 'true' : null
    });
    var button = el('button', { type: 'submit', className: 'submit', text: copy.negative_button });
    var form = el('form', {}, [el('label', { for: boxId, text: copy.negative_reason }), box, button]);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var text = box.value.trim();
      if (!text) { box.focus(); return; }
      button.disabled = true;
      Promise.resolve(onSubmit(text)).finally(function () { button.disabled = false; });
    });
    return { form: form, box: box };
  }

  // ---------- thumbs under an answer ----------

  var sequence = 0;

  function rate(element, messageId) {
    if (!(element instanceof Element)) throw new TypeError('Plaudit.rate needs an element');
    if (!messageId) throw new TypeError('Plaudit.rate needs a message id');
    var conv = need();
    var t = strings(conv.locale);
    var uid = 'plaudit-' + ++sequence;
    var path = '/v1/messages/' + encodeURIComponent(messageId) + '/feedback';
    var shell = shadowHost('plaudit-thumbs');
    var state = { value: null, busy: false, form: null, wanted: null };

    var up = el('button', { type: 'button', 'aria-label': t.up, title: t.up, 'aria-pressed': 'false', 'data-value': 'positive' }, [icon('up')]);
    var down = el('button', { type: 'button', 'aria-label': t.down, title: t.down, 'aria-pressed': 'false', 'data-value': 'negative' }, [icon('down')]);
    var status = el('span', { className: 'status', role: 'status', 'aria-live': 'polite' });
    var wrap = el('div', { className: 'thumbs' }, [el('div', { className: 'row', role: 'group', 'aria-label': t.up + ' / ' + t.down }, [up, down, status])]);
    shell.root.appendChild(wrap);

    function show(value) {
      state.value = value;
      up.setAttribute('aria-pressed', String(value === 'positive'));
      down.setAttribute('aria-pressed', String(value === 'negative'));
      shell.host.setAttribute('data-value', value || '');
    }

    function closeForm() {
      state.wanted = null;
      if (state.form) { state.form.remove(); state.form = null; }
    }

    function openForm(type, required) {
      closeForm();
      state.wanted = type;
      conv.copy().then(function (copy) {
        // The visitor may have changed their mind while the copy loaded.
        if (state.form || state.wanted !== type) return;
        var form = reasonForm(copy, uid, required, function (reason) {
          return send(type, reason).then(function (ok) { if (ok) closeForm(); });
        });
        state.form = form.form;
        wrap.appendChild(form.form);
        form.box.focus();
      });
    }

    async function send(type, reason) {
      var body = { message_id: String(messageId), feedback_type: type };
      if (reason) body.reason = reason;
      try {
        var record = await call('POST', '/v1/feedback', body, conv.token);
        show(type);
        status.textContent = t.thanks;
        emit(shell.host, 'plaudit:feedback', { messageId: String(messageId), value: type, reason: reason || null, record: record });
        return true;
      } catch (error) {
        if (error.code === 'reason_required') {
          status.textContent = t.required;
          openForm(type, true);
        } else {
          status.textContent = t.failed;
        }
        return false;
      }
    }

    async function choose(type) {
      if (state.busy) return;
      state.busy = true;
      try {
        if (state.value === type) {
          await call('DELETE', path, undefined, conv.token);
          show(null);
          closeForm();
          status.textContent = t.removed;
          emit(shell.host, 'plaudit:feedback', { messageId: String(messageId), value: null, reason: null, record: null });
        } else if (await send(type)) {
          if (type === 'negative') openForm(type, false);
          else closeForm();
        }
      } catch (error) {
        status.textContent = t.failed;
      } finally {
        state.busy = false;
      }
    }

    up.addEventListener('click', function () { choose('positive'); });
    down.addEventListener('click', function () { choose('negative'); });
    element.appendChild(shell.host);

    // A thumb given earlier (a reload) shows as pressed.
    call('GET', path, undefined, conv.token).then(function (record) {
      if (record && state.value === null) show(record.feedback_type);
    }, function () {});

    return {
      element: shell.host,
      get value() { return state.value; },
      remove: function () { shell.host.remove(); }
    };
  }

  // ---------- the end-of-conversation prompt ----------

  var NEGATIVE = { up: false, down: true, 1: true, 2: true, 3: false, 4: false, 5: false };

  async function endConversation(options) {
    var conv = need();
    options = options || {};
    var config = await conv.config();
    if (!config.conv_rating_active || !config.conv_rating_popup_active || !config.conv_rating_question_codes.length) {
      return { shown: false };
    }
    var copy = await conv.copy();
    var t = strings(conv.locale);
    var uid = 'plaudit-' + ++sequence;
    var shell = shadowHost('plaudit-prompt');
    var answers = {};
    // The reason given after a negative answer (null until then); it goes
    // with every negative answer, those before it and those after.
    var reason = null;

    var titleId = uid + '-title';
    var close = el('button', { type: 'button', className: 'close', 'aria-label': t.close, title: t.close, text: '\u00d7' });
    var body = el('div', { className: 'body' });
    var status = el('p', { className: 'status', role: 'status', 'aria-live': 'polite' });
    var panel = el('section', {
      className: options.container ? 'panel' : 'panel floating',
      role: 'dialog',
      'aria-labelledby': titleId
    }, [el('div', { className: 'head' }, [el('h2', { id: titleId, text: copy.title }), close]), body, status]);
    shell.root.appendChild(panel);

    function finish() {
      body.textContent = '';
      status.textContent = '';
      body.appendChild(el('p', { className: 'done', text: copy.after_submission }));
      shell.host.setAttribute('data-state', 'done');
      emit(shell.host, 'plaudit:csat-done', { conversationId: conv.id, answers: answers });
    }

    var form = null;
    function openReason() {
      if (form) return;
      var made = reasonForm(copy, uid, false, async function (text) {
        var negatives = Object.keys(answers).filter(function (code) { return NEGATIVE[answers[code]]; });
        try {
          for (var i = 0; text && i < negatives.length; i++) {
            await call('POST', '/v1/conversations/' + encodeURIComponent(conv.id) + '/csat',
              { question_code: negatives[i], value: answers[negatives[i]], negative_reason: text }, conv.token);
          }
          reason = text;
          form.remove();
          form = null;
          maybeFinish();
        } catch (error) {
          status.textContent = t.failed;
        }
      });
      form = made.form;
      body.appendChild(form);
    }

    // Done once every question has its answer and, after a negative one,
    // the reason was given (or skipped); until then the other questions stay.
    function maybeFinish() {
      var codes = config.conv_rating_question_codes;
      var all = codes.every(function (code) { return answers[code] !== undefined; });
      var negative = codes.some(function (code) { return NEGATIVE[answers[code]]; });
      if (negative && reason === null) openReason();
      else if (all) finish();
    }

    function question(code) {
      var labelId = uid + '-' + code;
      var buttons = [];
      var group;
      async function answer(value, button) {
        var sent = { question_code: code, value: value };
        if (NEGATIVE[value] && reason) sent.negative_reason = reason;
        try {
          await call('POST', '/v1/conversations/' + encodeURIComponent(conv.id) + '/csat', sent, conv.token);
          answers[code] = value;
          buttons.forEach(function (b) {
            b.setAttribute('aria-pressed', String(b === button));
            // Stars light up to the one chosen.
            if (typeof value === 'number') b.classList.toggle('lit', Number(b.getAttribute('data-value')) <= value);
          });
          emit(shell.host, 'plaudit:csat', { conversationId: conv.id, questionCode: code, value: value });
          status.textContent = '';
          maybeFinish();
        } catch (error) {
          status.textContent = t.failed;
        }
      }
      if (code === 'SATISFACTION_STARS') {
        for (var n = 1; n <= 5; n++) {
          (function (stars) {
            var b = el('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': t.star(stars), title: t.star(stars), 'data-value': stars }, [icon('star')]);
            b.addEventListener('click', function () { answer(stars, b); });
            buttons.push(b);
          })(n);
        }
        group = el('div', { className: 'row stars', role: 'group', 'aria-labelledby': labelId }, buttons);
      } else {
        [['up', t.up], ['down', t.down]].forEach(function (pair) {
          var b = el('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': pair[1], title: pair[1], 'data-value': pair[0] }, [icon(pair[0])]);
          b.addEventListener('click', function () { answer(pair[0], b); });
          buttons.push(b);
        });
        group = el('div', { className: 'row', role: 'group', 'aria-labelledby': labelId }, buttons);
      }
      return el('div', { className: 'question', 'data-code': code }, [el('div', { className: 'q', id: labelId, text: t[code] || code }), group]);
    }

    config.conv_rating_question_codes.forEach(function (code) { body.appendChild(question(code)); });
    close.addEventListener('click', function () { shell.host.remove(); });
    panel.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') shell.host.remove();
    });
    (options.container || document.body).appendChild(shell.host);
    var first = body.querySelector('button');
    if (first && options.focus !== false) first.focus();
    return { shown: true, element: shell.host, close: function () { shell.host.remove(); } };
  }

  window.Plaudit = Object.freeze({
    version: '1',
    origin: ORIGIN,
    conversation: conversation,
    rate: rate,
    endConversation: endConversation
  });
  document.dispatchEvent(new CustomEvent('plaudit:ready'));
})();

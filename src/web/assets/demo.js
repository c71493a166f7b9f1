// The demo chat: sends questions to the demo backend, shows the answers, and
// hands each answer to the widget. Every piece of text goes in with textContent.
(function () {
  'use strict';

  var log = document.getElementById('log');
  var form = document.getElementById('ask');
  var input = document.getElementById('question');
  var send = document.getElementById('send');
  var endButton = document.getElementById('end');
  var restart = document.getElementById('restart');
  var error = document.getElementById('error');
  var promptBox = document.getElementById('prompt');
  var locale = navigator.language || 'en';
  var session = null; // { conversationId, token }

  // Exposed for the browser tests and the curious.
  window.plauditDemo = { get session() { return session; } };

  function bubble(role, text) {
    var item = document.createElement('li');
    item.className = 'msg ' + role;
    var who = document.createElement('span');
    who.className = 'who';
    who.textContent = role === 'user' ? 'You' : 'Assistant';
    var body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.appendChild(who);
    item.appendChild(body);
    log.appendChild(item);
    item.scrollIntoView({ block: 'nearest' });
    return item;
  }

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
  }

  async function post(path, body) {
    var response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) throw new Error((data && data.message) || 'HTTP ' + response.status);
    return data;
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question) return;
    error.hidden = true;
    input.value = '';
    send.disabled = true;
    bubble('user', question);
    var waiting = bubble('assistant pending', '…');
    try {
      var reply = await post('/demo/chat', { message: question, token: session ? session.token : undefined, locale: locale });
      waiting.remove();
      session = { conversationId: reply.conversation_id, token: reply.token };
      var item = bubble('assistant', reply.answer);
      item.setAttribute('data-message-id', reply.message_id);
      window.Plaudit.conversation({ id: reply.conversation_id, token: reply.token, locale: locale, botId: reply.bot_id });
      window.Plaudit.rate(item, reply.message_id);
      endButton.disabled = false;
    } catch (e) {
      waiting.remove();
      fail('The assistant could not answer: ' + e.message);
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  endButton.addEventListener('click', async function () {
    if (!session) return;
    endButton.disabled = true;
    try {
      await post('/demo/end', { token: session.token });
      var shown = await window.Plaudit.endConversation({ container: promptBox });
      if (!shown.shown) fail('Conversation rating is turned off for this bot.');
    } catch (e) {
      fail('Could not end the conversation: ' + e.message);
    }
  });

  restart.addEventListener('click', function () {
    session = null;
    log.textContent = '';
    promptBox.textContent = '';
    error.hidden = true;
    endButton.disabled = true;
    input.focus();
  });
})();

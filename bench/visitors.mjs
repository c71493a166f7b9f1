// Many visitors on one public key, and one abuser: shows that the browser
// rate limits are per feedback token and per client address, not per key.
//
//   node bench/visitors.mjs <base-url> <server-key> <public-key>
//
// Settings by environment: VISITORS (64), SECONDS (30), PACE_MS (1500: the
// mean wait between a visitor's requests, at random from half to one and a
// half times it). Every visitor has a conversation of its own, its own
// feedback token and its own address (sent as X-Forwarded-For: start the
// server with `trusted_proxies` holding the address this script connects
// from). One more token, the abuser, sends as fast as it can. The script
// prints what each kind of client got and exits non-zero unless no visitor
// saw a 429 and the abuser did. `bench/visitors.sh` runs it against a fresh
// server.

const [base, serverKey, publicKey] = process.argv.slice(2);
if (!base || !serverKey || !publicKey) {
  console.error('usage: node bench/visitors.mjs <base-url> <server-key> <public-key>');
  process.exit(2);
}
const VISITORS = Number(process.env.VISITORS || 64);
const SECONDS = Number(process.env.SECONDS || 30);
const PACE_MS = Number(process.env.PACE_MS || 1500);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(method, path, key, body, headers = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function must(method, path, body) {
  let r = await call(method, path, serverKey, body);
  // Setting up is many calls of one key: wait out its budget when it runs dry.
  while (r.status === 429) {
    await sleep(1000);
    r = await call(method, path, serverKey, body);
  }
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const run = Date.now().toString(36);
const bots = await must('GET', '/v1/bots');
const bot = bots.items[0]?.id;
if (!bot) throw new Error('the account needs a bot');

/** A conversation with three answers, and a token for its visitor. */
async function visitor(i) {
  const id = `visit-${run}-${i}`;
  await must('PUT', `/v1/conversations/${id}`, { bot_id: bot, contact_id: `visitor-${run}-${i}` });
  const answers = [];
  for (let n = 0; n < 3; n++) {
    await must('POST', `/v1/conversations/${id}/messages`, { id: `${id}-q${n}`, role: 'user', content: `Question ${n}?` });
    await must('POST', `/v1/conversations/${id}/messages`, { id: `${id}-a${n}`, role: 'assistant', content: `Answer ${n}.` });
    answers.push(`${id}-a${n}`);
  }
  const { token } = await must('POST', `/v1/conversations/${id}/feedback-token`, {});
  const address = `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  return { id, answers, token, address, sent: 0, limited: 0, failed: 0 };
}

/** What a visitor does next: a thumb, a change of mind, a read of the prompt's configuration, a vote. */
function nextRequest(v, n) {
  const answer = v.answers[n % v.answers.length];
  switch (n % 4) {
    case 0: return ['POST', '/v1/feedback', { message_id: answer, feedback_type: 'positive' }];
    case 1: return ['POST', '/v1/feedback', { message_id: answer, feedback_type: 'negative', reason: 'Not what I asked' }];
    case 2: return ['GET', `/v1/bots/${bot}/rating-config`, undefined];
    default: return ['POST', `/v1/conversations/${v.id}/upvote`, undefined];
  }
}

async function send(v, n) {
  const [method, path, body] = nextRequest(v, n);
  const r = await call(method, path, publicKey, body, { 'X-Feedback-Token': v.token, 'X-Forwarded-For': v.address });
  v.sent += 1;
  if (r.status === 429) v.limited += 1;
  else if (r.status >= 400) v.failed += 1;
}

const visitors = [];
for (let i = 0; i < VISITORS; i++) visitors.push(await visitor(i));
const abuser = await visitor(VISITORS);
const end = Date.now() + SECONDS * 1000;

async function browse(v) {
  await sleep(Math.random() * PACE_MS);
  for (let n = 0; Date.now() < end; n++) {
    await send(v, n);
    await sleep(PACE_MS * (0.5 + Math.random()));
  }
}

async function abuse(v) {
  // Eight requests in flight at all times, for the whole run.
  const lanes = Array.from({ length: 8 }, async (_, lane) => {
    for (let n = lane; Date.now() < end; n += 8) await send(v, n);
  });
  await Promise.all(lanes);
}

const started = Date.now();
await Promise.all([...visitors.map(browse), abuse(abuser)]);
const seconds = (Date.now() - started) / 1000;
const sum = (key) => visitors.reduce((total, v) => total + v[key], 0);
const limitedVisitors = visitors.filter((v) => v.limited > 0).length;
console.log(`${VISITORS} visitors over ${seconds.toFixed(1)} s: ${sum('sent')} requests (${(sum('sent') / seconds).toFixed(1)}/s), ` +
  `${sum('limited')} answered 429 (${limitedVisitors} visitors saw one), ${sum('failed')} other errors`);
console.log(`abuser: ${abuser.sent} requests (${(abuser.sent / seconds).toFixed(1)}/s), ${abuser.limited} answered 429, ${abuser.failed} other errors`);
const ok = sum('limited') === 0 && sum('failed') === 0 && abuser.limited > 0;
console.log(ok ? 'OK: no visitor was throttled; the abuser was' : 'FAILED');
process.exit(ok ? 0 : 1);

// A webhook receiver for the tests: a real HTTP server in its own process.
// It prints its port on the first line, then one JSON line for each request
// it gets ({method, path, headers, body, verified}). It listens on the port
// given as its first argument (default: any free one). It answers by path:
//   /ok 200, /fail 500, /redirect 302 to /ok, /slow after 3 s, /big 200 with 1 MiB;
//   /hook 200, or 503 while told to fail (after 2 s while told to be slow).
// `verified` says whether the Standard Webhooks library (the npm package
// `standardwebhooks`, unchanged) accepts the delivery with the secret it was
// given (null before it has one). Control requests, not printed:
//   POST /_control/secret (body: whsec_…), /_control/fail, /_control/ok, /_control/slow, /_control/quick.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');

let secret = null;
let failing = false;
let slow = false;

function verify(body, headers) {
  if (!secret) return null;
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': headers['webhook-id'],
      'webhook-timestamp': headers['webhook-timestamp'],
      'webhook-signature': headers['webhook-signature'],
    });
    return true;
  } catch {
    return false;
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.url.startsWith('/_control/')) {
      if (req.url === '/_control/secret') secret = body.trim();
      if (req.url === '/_control/fail') failing = true;
      if (req.url === '/_control/ok') failing = false;
      if (req.url === '/_control/slow') slow = true;
      if (req.url === '/_control/quick') slow = false;
      res.writeHead(204).end();
      return;
    }
    const verified = verify(body, req.headers);
    const answered = req.url === '/hook' && failing ? 503 : null;
    process.stdout.write(
      JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body, verified, answered }) + '\n',
    );
    switch (req.url) {
      case '/ok': res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); break;
      case '/hook':
        setTimeout(() => res.writeHead(failing ? 503 : 200).end(failing ? 'down' : 'ok'), slow ? 2000 : 0);
        break;
      case '/fail': res.writeHead(500).end('no'); break;
      case '/redirect': res.writeHead(302, { location: '/ok' }).end(); break;
      case '/slow': setTimeout(() => res.writeHead(200).end('late'), 3000); break;
      case '/big': res.writeHead(200).end(Buffer.alloc(1024 * 1024, 120)); break;
      default: res.writeHead(404).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

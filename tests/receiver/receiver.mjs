// A webhook receiver for the tests: a real HTTP server in its own process.
// It prints its port on the first line, then one JSON line for each request
// it gets ({method, path, headers, body}). It answers by path:
//   /ok 200, /fail 500, /redirect 302 to /ok, /slow after 3 s, /big 200 with 1 MiB.
import http from 'node:http';

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    process.stdout.write(JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body }) + '\n');
    switch (req.url) {
      case '/ok': res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); break;
      case '/fail': res.writeHead(500).end('no'); break;
      case '/redirect': res.writeHead(302, { location: '/ok' }).end(); break;
      case '/slow': setTimeout(() => res.writeHead(200).end('late'), 3000); break;
      case '/big': res.writeHead(200).end(Buffer.alloc(1024 * 1024, 120)); break;
      default: res.writeHead(404).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

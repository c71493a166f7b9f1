// The webhook receiver of the benchmarks: answers every delivery 200 at
// once and counts them; GET /count answers how many came. It listens on the
// port given as its first argument.
import http from 'node:http';

let count = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(String(count));
    return;
  }
  req.on('data', () => {});
  req.on('end', () => {
    count += 1;
    res.writeHead(200).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] || 18090), '127.0.0.1');

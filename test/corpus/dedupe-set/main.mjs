// Modelled on https://github.com/HKUDS/nanobot/pull/959 (a dedup set of already-processed message ids that is never trimmed)
import http from 'node:http';
import process from 'node:process';

// Webhook providers retry deliveries; remember which ones were handled so a retry is acknowledged, not re-applied.
const processedDeliveries = new Set();
let applied = 0;

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(body || '{}'));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function handleDelivery(source, event) {
  const key = `${source}:${event.type}:${event.deliveryId}`;
  if (processedDeliveries.has(key)) return false;
  processedDeliveries.add(key);
  applied++;
  return true;
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || !req.url.startsWith('/webhooks/')) {
    res.writeHead(404).end();
    return;
  }
  try {
    const source = req.url.slice('/webhooks/'.length).split('?')[0];
    const event = await readJson(req);
    const fresh = handleDelivery(source, event);
    res.writeHead(fresh ? 202 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accepted: fresh, applied }));
  } catch {
    res.writeHead(400).end();
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`webhook receiver listening on http://127.0.0.1:${server.address().port}/\n`);
});

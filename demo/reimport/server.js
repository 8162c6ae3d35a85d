'use strict';
// Users API that hot-reloads its database module on every request, "so config changes apply
// without a restart": it drops ./db from require.cache and requires it again. The old module
// instances are never released (each one's pool keeps pinging), so DbPools pile up.
const { serve } = require('../lib/serve');

function freshDb() {
  delete require.cache[require.resolve('./db')];
  return require('./db');
}

serve((req, res) => {
  const db = freshDb();
  const url = new URL(req.url, 'http://localhost');
  const id = Number(url.searchParams.get('id') || 1);
  const rows = db.query('SELECT id, name FROM users WHERE id = $1', [id]);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ rows }));
});

// Modelled on https://github.com/OpenCTI-Platform/opencti/issues/2878 (a DataLoader used for batching, created
// once at module level with its cache on, so every key ever loaded stays in its cache).
'use strict';
// Profile API: requests load a user profile through a DataLoader so that lookups made in the same tick are
// batched into one "query". The loader is built once for the whole process instead of once per request, and
// its per-key cache is never cleared, so every profile loaded since start stays cached.
const express = require('express');
const DataLoader = require('dataloader');

class UserProfile {
  constructor(id, row) {
    this.id = id;
    this.displayName = row.name;
    this.roles = row.roles;
    this.preferences = { theme: 'dark', locale: 'en-US', pageSize: 50 };
    this.loadedAt = Date.now();
  }
}

let queries = 0;

async function batchLoadProfiles(ids) {
  queries++;
  const rows = ids.map((id) => ({ name: `user ${id.slice(0, 8)}`, roles: ['reader', `team-${id.length % 7}`] }));
  return rows.map((row, i) => new UserProfile(ids[i], row));
}

const profileLoader = new DataLoader(batchLoadProfiles);

const app = express();

app.get('/', async (req, res, next) => {
  try {
    const id = req.get('x-request-id') || String(req.query.requestId || 'anonymous');
    const profile = await profileLoader.load(id);
    res.json({ id: profile.id, name: profile.displayName, queries });
  } catch (err) {
    next(err);
  }
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`profile API listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

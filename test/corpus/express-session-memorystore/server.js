// Modelled on https://github.com/expressjs/session/issues/556 ("connect.session() MemoryStore is not designed for a production environment, as it will leak memory")
'use strict';
const express = require('express');
const session = require('express-session');

const app = express();

app.use(
  session({
    secret: process.env.SESSION_SECRET || 'dev-only-secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 24 * 60 * 60 * 1000 },
  }),
);

app.get('/', (req, res) => {
  // Health checks and API clients send no cookie, so every request gets a brand new session.
  req.session.firstSeen = req.session.firstSeen || new Date().toISOString();
  req.session.lastPath = req.originalUrl;
  req.session.visits = (req.session.visits || 0) + 1;
  res.json({ visits: req.session.visits, since: req.session.firstSeen });
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`storefront listening on http://127.0.0.1:${server.address().port}/`);
});

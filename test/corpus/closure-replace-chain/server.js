// Modelled on https://point.davidglasser.net/2013/06/27/surprising-javascript-memory-leak.html (Meteor's
// "surprising JavaScript memory leak": replaceThing, where an unused closure shares its scope with a kept one).
'use strict';
// Report renderer that is rebuilt on every request so that template edits show up at once. The rebuild
// compares against the renderer it replaces (only in a check that is never called), and that is enough for V8
// to keep every previous renderer alive: `previous` lives in the scope that the kept `render` closure shares.
const express = require('express');

class Renderer {
  constructor(version, layout, render) {
    this.version = version;
    this.layout = layout;
    this.render = render;
    this.builtAt = Date.now();
  }
}

let current = null;

function rebuildRenderer(title) {
  const previous = current;
  const sameLayout = function () {
    return previous !== null && previous.layout === layout;
  };
  const layout = `<table><caption>${title}</caption>${'<tr><td></td><td></td></tr>'.repeat(200)}</table>`;
  current = new Renderer(previous ? previous.version + 1 : 1, layout, (rows) => layout.length + rows.length);
  void sameLayout;
  return current;
}

const app = express();

app.get('/', (req, res) => {
  const id = req.get('x-request-id') || String(req.query.requestId || '');
  const renderer = rebuildRenderer(`report ${id}`);
  res.json({ version: renderer.version, size: renderer.render([id]) });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`report service listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

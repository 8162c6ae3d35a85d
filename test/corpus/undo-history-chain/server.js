// Modelled on https://github.com/wurmlab/afra/issues/62 (an undo/redo history that is never trimmed).
'use strict';
// Shared-notes service: every request appends a line to the shared document and records a revision so that
// `/undo` can step back. Each revision points at the one before it and nothing ever drops old ones, so the
// history only grows, though only the newest revision is referenced directly.
const express = require('express');

class Revision {
  constructor(prev, edit) {
    this.prev = prev;
    this.seq = prev ? prev.seq + 1 : 1;
    this.author = edit.author;
    this.at = Date.now();
    this.inserted = edit.text;
    // The document as it stood after this edit (its last 2 KB), so that undo can restore it without replaying.
    this.text = ((prev ? prev.text : '') + edit.text).slice(-2048);
  }
}

let head = null;

function record(edit) {
  head = new Revision(head, edit);
  return head;
}

const app = express();

app.get('/undo', (req, res) => {
  if (head && head.prev) head = head.prev;
  res.json({ seq: head ? head.seq : 0 });
});

app.get('/', (req, res) => {
  const id = req.get('x-request-id') || String(req.query.requestId || 'anonymous');
  const rev = record({ author: id, text: `note from ${id} at ${new Date().toISOString()}\n` });
  res.json({ seq: rev.seq, length: rev.text.length });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`notes service listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

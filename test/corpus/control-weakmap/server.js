// Modelled on https://github.com/mdn/content/issues/34583 (a WeakMap cache: once the key object is collected, its entry and cached result go too)
'use strict';
const http = require('http');

class RequestContext {
  constructor(req) {
    this.requestId = req.headers['x-request-id'];
    this.roles = req.headers['x-roles'] ? req.headers['x-roles'].split(',') : ['guest'];
    this.tenant = req.headers['x-tenant'] || 'public';
  }
}

class Permissions {
  constructor(ctx) {
    this.canRead = true;
    this.canWrite = ctx.roles.includes('editor');
    this.canAdmin = ctx.roles.includes('admin');
    this.scopes = ctx.roles.map((r) => `${ctx.tenant}:${r}`);
  }
}

// Computed once per request context, however many handlers ask.
const permissionsByContext = new WeakMap();

function permissionsOf(ctx) {
  let perms = permissionsByContext.get(ctx);
  if (!perms) {
    perms = new Permissions(ctx);
    permissionsByContext.set(ctx, perms);
  }
  return perms;
}

function canShowDraft(ctx) {
  return permissionsOf(ctx).canWrite;
}

const server = http.createServer((req, res) => {
  const ctx = new RequestContext(req);
  const body = { read: permissionsOf(ctx).canRead, drafts: canShowDraft(ctx), scopes: permissionsOf(ctx).scopes };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`docs api listening on http://127.0.0.1:${server.address().port}/`);
});

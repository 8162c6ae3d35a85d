// Modelled on https://github.com/bitwarden/clients/issues/20548 (a Koa service leaking ~10 KB per HTTP request because key material is re-set on every request)
'use strict';
const { randomBytes, randomUUID } = require('crypto');
const Koa = require('koa');

class SessionKey {
  constructor(userId) {
    this.userId = userId;
    this.keyId = randomUUID();
    this.material = randomBytes(32).toString('base64');
    this.createdAt = new Date();
    this.scopes = ['vault:read', 'vault:write', 'sync'];
    this.audit = [{ at: Date.now(), event: 'issued' }];
  }
}

class KeyService {
  static registry = new Map();

  static unlock(userId) {
    const key = new SessionKey(userId);
    KeyService.registry.set(`${userId}:${key.keyId}`, key);
    return key;
  }

  static current(userId) {
    for (const key of KeyService.registry.values()) if (key.userId === userId) return key;
    return null;
  }
}

const app = new Koa();

app.use(async (ctx, next) => {
  const userId = ctx.get('x-request-id') || 'anonymous';
  ctx.state.key = KeyService.unlock(userId);
  await next();
});

app.use(async (ctx) => {
  ctx.body = { status: 'unlocked', keyId: ctx.state.key.keyId, scopes: ctx.state.key.scopes };
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`vault api listening on http://127.0.0.1:${server.address().port}/`);
});

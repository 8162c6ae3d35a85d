/**
 * What the program's own answer about its servers becomes (src/capture/address.ts): the host to connect to for a
 * server on every interface or on IPv6, HTTP servers first, and TARGET_URL as the CLI and Find Leaks pass it.
 * The answer itself comes from real programs in test/integration/address.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseTargetUrl, listeningFromValue, urlInLine, workloadEnvironment } from '../../src/capture/address';

void test('servers on every interface are reached on 127.0.0.1, IPv6 addresses in brackets; HTTP servers come first', () => {
  const found = listeningFromValue([
    { address: '127.0.0.1', family: 'IPv4', port: 7000, protocol: 'tcp' },
    { address: '::', family: 'IPv6', port: 3000, protocol: 'http' },
    { address: '::1', family: 'IPv6', port: 3443, protocol: 'https' },
    { address: '0.0.0.0', family: 'IPv4', port: 3000, protocol: 'http' },
    { address: '127.0.0.1', family: 'IPv4', port: 0, protocol: 'http' },
    'not a server',
  ]);
  assert.deepEqual(found, [
    { protocol: 'http', host: '127.0.0.1', port: 3000, url: 'http://127.0.0.1:3000' },
    { protocol: 'https', host: '[::1]', port: 3443, url: 'https://[::1]:3443' },
    { protocol: 'tcp', host: '127.0.0.1', port: 7000 },
  ]);
  assert.deepEqual(listeningFromValue(undefined), []);
});

void test('TARGET_URL is the URL the program printed, else its first HTTP server, else unset', () => {
  const servers = listeningFromValue([{ address: '127.0.0.1', family: 'IPv4', port: 4000, protocol: 'http' }]);
  assert.equal(chooseTargetUrl('http://localhost:8080/api', servers), 'http://localhost:8080/api');
  assert.equal(chooseTargetUrl(undefined, servers), 'http://127.0.0.1:4000');
  assert.equal(
    chooseTargetUrl(undefined, listeningFromValue([{ address: '127.0.0.1', port: 5000, protocol: 'tcp' }])),
    undefined,
  );
  assert.equal(urlInLine('api listening on http://127.0.0.1:4000/ (pid 7)'), 'http://127.0.0.1:4000/');
  assert.equal(workloadEnvironment('http://127.0.0.1:4000', { PATH: '/bin' }).TARGET_URL, 'http://127.0.0.1:4000');
  assert.equal('TARGET_URL' in workloadEnvironment(undefined, { PATH: '/bin' }), false);
});

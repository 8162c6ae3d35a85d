#!/usr/bin/env node
/**
 * Entry of the Leak Lens language server. Run it over stdio from any LSP client:
 *
 *     node out/server/main.js --stdio
 *
 * (`--node-ipc`, `--socket=PORT` and `--pipe=NAME` work too, as for every vscode-languageserver server). It reads
 * leak reports written by `leak-lens run --format json`, by default `.leak-lens/report.json` in each workspace
 * folder, and marks the leaks where the code is. See server/README.md for the protocol and settings.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { LeakLensServer } from './server';

const transports = ['--stdio', '--node-ipc', '--socket', '--pipe'];
if (!process.argv.slice(2).some((a) => transports.some((t) => a === t || a.startsWith(t + '=')))) {
  process.stderr.write('usage: node out/server/main.js --stdio   (or --node-ipc, --socket=PORT, --pipe=NAME)\n');
  process.exit(2);
}

const connection = createConnection(ProposedFeatures.all);
new LeakLensServer(connection);
connection.listen();

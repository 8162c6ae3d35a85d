/**
 * Entry point of the `leak-lens` debug adapter process: DAP over stdin/stdout, or over TCP with `--server=PORT`.
 * Editors other than VS Code start it as `node <this file>`.
 */
import { DebugSession } from '@vscode/debugadapter';
import { LeakLensDebugSession } from './session';

DebugSession.run(LeakLensDebugSession);

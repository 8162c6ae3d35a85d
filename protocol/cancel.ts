/**
 * One cancellation error for every layer: the engine throws it when a parse is stopped through its cancel flag, the
 * extension when the user cancels (a notification's Cancel, a dismissed question), and the CLI and the extension tell
 * it apart from a failure with `instanceof`. Across the engine worker's boundary it travels as the answer code
 * `cancelled` (protocol/engine.ts), never as a throw. No imports: every side includes this module.
 */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

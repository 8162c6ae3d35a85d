/**
 * Entry point of the engine worker thread: answers requests from an EngineClient. Parsing and analysis run here, with
 * this worker's own heap limit, never on the thread of the caller (such as VS Code's extension host).
 */
import { parentPort } from 'worker_threads';
import type { FromWorker, ToWorker } from '../protocol/engine';
import { EngineService } from './service';

const service = new EngineService();
const port = parentPort;
if (port) {
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'shutdown') {
      port.close();
      return;
    }
    const cancel = new Int32Array(msg.cancel);
    const answer = service.handle(msg.request as never, {
      shouldCancel: () => Atomics.load(cancel, 0) !== 0,
      onProgress: (progress) => port.postMessage({ type: 'progress', id: msg.id, ...progress } satisfies FromWorker),
    });
    port.postMessage({ type: 'answer', id: msg.id, answer } satisfies FromWorker);
  });
}

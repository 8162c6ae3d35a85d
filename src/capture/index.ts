// The capture library: getting an inspector URL for a Node process, and taking snapshots, samples and allocation
// traces through it. Used by the CLI, the debug adapter and the extension, so nothing here may import `vscode`.
export {
  CdpClient,
  CdpError,
  CdpTimeoutError,
  ConnectionClosedError,
  connect,
  type CdpCommands,
  type CdpEvents,
  type ConnectOptions,
  type Disposable,
  type SendOptions,
} from './cdp';
export {
  LaunchedProgram,
  attachToPid,
  launchProgram,
  livingGroupMembers,
  listInspectorTargets,
  parseTargetSpec,
  resolveTarget,
  targetFromHostPort,
  type AttachToPidOptions,
  type ExitStatus,
  type HttpLookupOptions,
  type InspectorTarget,
  type LaunchOptions,
  type ResolvedTarget,
  type TargetSpec,
} from './target';
export {
  CaptureSession,
  type CaptureSessionOptions,
  type ScriptRecord,
  type SnapshotSidecar,
  type SnapshotMethod,
  type SnapshotOptions,
  type TargetProcessInfo,
  type ThreadInfo,
} from './session';
export { CaptureAbortedError, InProcessWriteError, ProgramFinishedError, ProgramPausedError } from './sessionErrors';
export type { SnapshotResult } from './snapshotJob';
export {
  chooseTargetUrl,
  listeningAddresses,
  listeningFromValue,
  urlInLine,
  workloadEnvironment,
  type ListeningAddress,
} from './address';
export { launchForCapture, type LaunchedCapture } from './launch';
export { holdLifeline, signalExitCode, type LifelineOptions, type StopReason, type StopSignal } from './lifeline';
export { CaptureTooBigError, estimateCapture, isCaptureTooBig, type CaptureCost, type CaptureFacts } from './budget';
export { guardAllocationTracking, trackingGuardNote, type TrackingGuard } from './trackingGuard';
export { WorkerCapture, WorkerTracker, type WorkerSnapshotOptions } from './workers';
export {
  listInspectableProcesses,
  listNodeProcesses,
  listeningPortsOf,
  type InspectableListing,
  type InspectableProcess,
  type NodeProcess,
} from './processes';

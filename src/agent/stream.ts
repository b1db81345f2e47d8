import type { Logger } from '../core/log.ts';
import type { State } from '../core/state/keys.ts';
import { Backoff } from './backoff.ts';
import { type Exit, killGroup, runShell, settingsEnv } from './shell.ts';

/**
 * The stream supervisor: keeps `--stream <cmd>` (say `rpicam-vid … | ffmpeg … rtsp://…`) running while
 * streaming is wanted, restarts it when it dies (backing off so a broken camera is not hammered) and
 * when a setting it was started with changes, and stops the whole pipeline when asked.
 * Every operation goes through one queue, so a stop can never interleave with a restart.
 */

/** The settings a running encoder cannot change: a change restarts the stream. */
export const STREAM_KEYS = ['resolution', 'fps', 'bitrate', 'encoding'] as const;

export interface StreamHandle {
  pid: number | undefined;
  exited: Promise<Exit>;
  lastLine(): string;
  /** Stops it and everything it started. */
  stop(): Promise<void>;
}

/** Starts one instance of the stream with the given settings. */
export type StreamRunner = (state: State) => StreamHandle;

/** A grace period long enough for ffmpeg to close its RTSP session cleanly. */
const KILL_GRACE_MS = 5_000;

/** `env`: what the command gets besides the settings (EDGECAM_RTP_URL with `--webrtc rtp`). */
export function commandStream(command: string, env: Record<string, string> = {}): StreamRunner {
  return (state) => {
    const shell = runShell(command, { ...settingsEnv(state), ...env });
    return { pid: shell.pid, exited: shell.exited, lastLine: shell.lastLine, stop: () => killGroup(shell.pid, KILL_GRACE_MS) };
  };
}

/** --simulate without --stream: an in-process "stream" that only logs, so everything can be tried on a laptop. */
export function simulatedStream(log: Logger, everyMs = 5_000): StreamRunner {
  return (state) => {
    let frames = 0;
    let finish: (exit: Exit) => void = () => {};
    const exited = new Promise<Exit>((resolve) => {
      finish = resolve;
    });
    const timer = setInterval(() => {
      frames += Math.round((Number(state.fps) || 30) * (everyMs / 1000));
      log.info('simulate: stream heartbeat', { resolution: state.resolution, fps: state.fps, frames });
    }, everyMs);
    return {
      pid: undefined,
      exited,
      lastLine: () => '',
      async stop() {
        clearInterval(timer);
        finish({ code: 0, signal: null });
      },
    };
  };
}

interface Run {
  handle: StreamHandle;
  key: string;
  startedAt: number;
  /** Set when we stop it on purpose: its exit is not a crash. */
  stopping: boolean;
}

export interface StreamStatus {
  wanted: boolean;
  running: boolean;
  pid: number | undefined;
}

export interface SupervisorOptions {
  /** Restart delays after crashes (defaults: 0.5 s doubling to 30 s). */
  backoff?: Backoff;
  /** A run that lasted this long was healthy: the next crash restarts after the shortest delay again. */
  stableMs?: number;
}

export class StreamSupervisor {
  private wanted = false;
  private current: Run | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly backoff: Backoff;
  private readonly stableMs: number;

  constructor(
    private readonly runner: StreamRunner,
    private state: State,
    private readonly log: Logger,
    opts: SupervisorOptions = {},
  ) {
    // A local process needs no jitter: nobody else is restarting in step with it.
    this.backoff = opts.backoff ?? new Backoff({ baseMs: 500, capMs: 30_000, jitter: false });
    this.stableMs = opts.stableMs ?? 10_000;
  }

  status(): StreamStatus {
    return { wanted: this.wanted, running: this.current !== undefined, pid: this.current?.handle.pid };
  }

  /** Streaming is wanted: start it unless it runs. Resolves with a sentence for the command's reply. */
  start(): Promise<string> {
    return this.enqueue(async () => {
      this.wanted = true;
      this.cancelRestart();
      if (this.current) return `stream already running${pidText(this.current.handle.pid)}`;
      this.backoff.reset();
      return `stream started${pidText(this.launch('start'))}`;
    });
  }

  /** Streaming is not wanted: stop it and stay stopped. */
  stop(): Promise<string> {
    return this.enqueue(async () => {
      this.wanted = false;
      this.cancelRestart();
      if (!this.current) return 'stream already stopped';
      await this.halt('stop');
      return 'stream stopped';
    });
  }

  /** Stop and start again (RESTART_CAMERA); streaming is wanted afterwards. */
  restart(): Promise<string> {
    return this.enqueue(async () => {
      this.wanted = true;
      this.cancelRestart();
      await this.halt('restart');
      this.backoff.reset();
      return `stream restarted${pidText(this.launch('restart'))}`;
    });
  }

  /** New settings: kept for the next start, and a running stream restarts if one it depends on changed. */
  update(state: State): Promise<void> {
    this.state = state;
    return this.enqueue(async () => {
      const run = this.current;
      if (!run || run.key === streamKey(this.state)) return;
      this.log.info('stream settings changed, restarting the stream', streamFields(this.state));
      await this.halt('settings changed');
      this.launch('settings changed');
    });
  }

  /** On agent shutdown: stop the stream without forgetting that it is wanted. */
  shutdown(): Promise<void> {
    return this.enqueue(async () => {
      this.closed = true;
      this.cancelRestart();
      await this.halt('agent stopping');
    });
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op);
    // The queue goes on after a failed operation; the caller still sees the failure.
    this.queue = next.catch((error) => this.log.error('stream operation failed', { error: String(error) }));
    return next;
  }

  /** Returns the new process id (undefined for the simulated stream). */
  private launch(why: string): number | undefined {
    if (this.closed) return undefined;
    const state = this.state;
    const handle = this.runner(state);
    const run: Run = { handle, key: streamKey(state), startedAt: Date.now(), stopping: false };
    this.current = run;
    this.log.info('stream started', { why, pid: handle.pid, ...streamFields(state) });
    void handle.exited.then((exit) => this.crashed(run, exit));
    return handle.pid;
  }

  private async halt(why: string): Promise<void> {
    const run = this.current;
    if (!run) return;
    run.stopping = true;
    this.current = undefined;
    await run.handle.stop();
    // After SIGKILL the exit is a formality, unless the process is stuck in the kernel (a wedged camera
    // driver): then go on without it rather than wedge every later start and stop behind it.
    const exited = await Promise.race([run.handle.exited.then(() => true), sleep(2_000).then(() => false)]);
    if (!exited) this.log.warn('stream did not exit after SIGKILL, going on without it', { pid: run.handle.pid });
    this.log.info('stream stopped', { why, pid: run.handle.pid });
  }

  /** The stream exited without being asked to: clean up its group and start it again later. */
  private async crashed(run: Run, exit: Exit): Promise<void> {
    if (run.stopping) return;
    if (this.current === run) this.current = undefined;
    const ranMs = Date.now() - run.startedAt;
    this.log.warn('stream exited', {
      pid: run.handle.pid,
      code: exit.code,
      signal: exit.signal,
      ran_s: Math.round(ranMs / 100) / 10,
      output: run.handle.lastLine() || undefined,
    });
    // The shell is gone, but half a pipeline may still hold the camera.
    await run.handle.stop();
    if (!this.wanted || this.closed) return;
    if (ranMs >= this.stableMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.log.info('stream restarting', { in_ms: delay, attempt: this.backoff.failures });
    this.cancelRestart();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.enqueue(async () => {
        if (this.wanted && !this.current) this.launch('restart after exit');
      });
    }, delay);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }
}

function streamKey(state: State): string {
  return JSON.stringify(STREAM_KEYS.map((key) => state[key] ?? null));
}

function streamFields(state: State): Record<string, string | number | undefined> {
  const fields: Record<string, string | number | undefined> = {};
  for (const key of STREAM_KEYS) fields[key] = state[key] as string | number | undefined;
  return fields;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function pidText(pid: number | undefined): string {
  return pid === undefined ? '' : ` (pid ${pid})`;
}

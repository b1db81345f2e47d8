import type { Logger } from '../core/log.ts';
import type { State } from '../core/state/keys.ts';
import { killGroup, runShell, type Shell, settingsEnv } from './shell.ts';

/**
 * Applying settings: `--apply <cmd>` gets the device's full state as JSON on stdin; exit 0 means it
 * worked, its last line of output is the message the server (and the person who made the change) sees.
 * Runs are serialised by ApplyQueue: a camera driver poked by two commands at once ends up in a state
 * nobody asked for.
 */

export interface ApplyResult {
  success: boolean;
  message: string;
}

export interface Applier {
  apply(state: State): Promise<ApplyResult>;
  /** Kills a run in progress (on shutdown). */
  stop(): Promise<void>;
}

/** Long enough for a slow v4l2 or config reload, short enough that a hung command cannot wedge the agent. */
export const APPLY_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 2_000;

export function commandApplier(command: string, log: Logger, timeoutMs = APPLY_TIMEOUT_MS): Applier {
  let running: Shell | undefined;
  return {
    async apply(state) {
      const started = Date.now();
      const shell = runShell(command, settingsEnv(state), `${JSON.stringify(state)}\n`);
      running = shell;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(shell.pid, KILL_GRACE_MS).catch(() => {});
      }, timeoutMs);
      const exit = await shell.exited;
      clearTimeout(timer);
      running = undefined;
      const line = shell.lastLine();
      const ms = Date.now() - started;
      let result: ApplyResult;
      if (timedOut) result = { success: false, message: `apply timed out after ${timeoutMs / 1000} s and was killed` };
      else if (exit.code === 0) result = { success: true, message: line || 'applied' };
      else if (exit.code === null && exit.signal === null) result = { success: false, message: 'apply could not start sh' };
      else result = { success: false, message: `apply failed (${exitText(exit)})${line ? `: ${line}` : ''}` };
      if (result.success) log.info('settings applied', { ms, output: line || undefined });
      else log.warn('settings not applied', { ms, reason: result.message });
      return result;
    },
    async stop() {
      if (running) await killGroup(running.pid, KILL_GRACE_MS);
    },
  };
}

/** --simulate without --apply: nothing to drive, so say what would have been applied. */
export function simulatedApplier(log: Logger): Applier {
  return {
    async apply(state) {
      log.info('simulate: would apply settings', { settings: JSON.stringify(state) });
      return { success: true, message: 'simulated: settings logged' };
    },
    async stop() {},
  };
}

/** No --apply: the settings still reach the stream through its environment. */
export function streamOnlyApplier(): Applier {
  return {
    async apply() {
      return { success: true, message: 'no --apply command: settings passed to the stream only' };
    },
    async stop() {},
  };
}

function exitText(exit: { code: number | null; signal: string | null }): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`;
}

/**
 * Serialises apply runs and coalesces what arrives meanwhile: while a run is in progress, any number
 * of changes lead to exactly one more run, with the latest state. Each change's request id is answered
 * by the first run that includes it; `superseded` says a newer state is already queued, so the
 * result must not be reported as the device's current state.
 */
export class ApplyQueue {
  private running = false;
  private dirty = false;
  private waiting: (string | undefined)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly applier: Applier,
    private readonly desired: () => State,
    private readonly done: (result: ApplyResult, state: State, requestIds: (string | undefined)[], superseded: boolean) => void,
  ) {}

  /** Queue a run with the desired state as it will be when the run starts. */
  request(requestId?: string): void {
    this.waiting.push(requestId);
    this.dirty = true;
    if (!this.running) void this.drain();
  }

  /** True while a run is in progress or queued. */
  get busy(): boolean {
    return this.running || this.dirty;
  }

  /** Resolves once nothing is running or queued. */
  idle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty) {
        this.dirty = false;
        const requestIds = this.waiting.splice(0);
        const state = { ...this.desired() };
        let result: ApplyResult;
        try {
          result = await this.applier.apply(state);
        } catch (error) {
          result = { success: false, message: `apply failed: ${(error as Error).message}` };
        }
        this.done(result, state, requestIds, this.dirty);
      }
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}

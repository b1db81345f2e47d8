import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { bitrateBits, type State } from '../core/state/keys.ts';

/**
 * Running the user's commands (`--apply`, `--stream`) through `sh -c`, as npm runs scripts, so pipes,
 * variables and quoting work as they would in a terminal.
 *
 * Each command gets its own process group (`detached: true`): a pipeline like `rpicam-vid | ffmpeg`
 * is two processes besides the shell, and signalling only the shell would leave them holding the
 * camera. We signal the whole group instead (kill(-pgid)).
 */

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Shell {
  child: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
  /** The last non-empty line the command wrote to stdout, else stderr ('' if none). */
  lastLine(): string;
}

/** The settings as environment variables, for commands that take them as flags. */
export function settingsEnv(state: State): Record<string, string> {
  const [width = '', height = ''] = typeof state.resolution === 'string' ? state.resolution.split('x') : [];
  const text = (value: unknown) => (value === undefined ? '' : String(value));
  return {
    EDGECAM_RESOLUTION: text(state.resolution),
    EDGECAM_WIDTH: width,
    EDGECAM_HEIGHT: height,
    EDGECAM_FPS: text(state.fps),
    EDGECAM_BITRATE: text(state.bitrate),
    // rpicam-vid and most encoders want bits per second, not "2M".
    EDGECAM_BITRATE_BPS: typeof state.bitrate === 'string' ? text(bitrateBits(state.bitrate) ?? '') : '',
    EDGECAM_ENCODING: text(state.encoding),
    EDGECAM_STATE: JSON.stringify(state),
  };
}

/**
 * Starts `sh -c command` in a new process group. stdin is a pipe only when `input` is given (it is
 * written and closed); stdout and stderr are read so the last line can be reported.
 */
export function runShell(command: string, env: Record<string, string>, input?: string): Shell {
  const child = spawn('sh', ['-c', command], {
    detached: true,
    env: { ...process.env, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  // spawn reports a failure to start (no `sh`, EAGAIN) as an 'error' event and an exit with no code.
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', () => resolve({ code: null, signal: null }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const out = new LastLine();
  const err = new LastLine();
  follow(child.stdout, out);
  follow(child.stderr, err);
  if (input !== undefined && child.stdin) {
    // A command that never reads stdin (`echo ok`) closes the pipe early: EPIPE is not our problem.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  }
  return { child, pid: child.pid ?? -1, exited, lastLine: () => out.line || err.line };
}

/**
 * SIGTERM to the whole group, then SIGKILL to whatever is left after `graceMs`. Resolves when the group
 * is gone (or was already). Safe to call for a group whose leader already exited: stragglers of a
 * pipeline whose shell died are cleaned up the same way.
 */
export async function killGroup(pid: number, graceMs: number): Promise<void> {
  if (pid <= 0 || !signalGroup(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    // No event tells us when the last member of a group exits, so poll (the group is ours and small).
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, 'SIGKILL');
}

/** True if the group still had a member to signal. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: nobody left. EPERM would mean the group id was reused by someone else's process: leave it.
    return false;
  }
}

function follow(stream: Readable | null, into: LastLine): void {
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => into.add(chunk));
}

/** Keeps only the last complete non-empty line (and a bounded partial one), whatever the volume. */
export class LastLine {
  private partial = '';
  private last = '';

  add(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split(/\r?\n|\r/);
    // The last piece has no newline yet; ffmpeg's progress lines end in \r, which counts as an end too.
    this.partial = (lines.pop() ?? '').slice(-4096);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]?.trim();
      if (line) {
        this.last = line.slice(0, 1000);
        break;
      }
    }
  }

  get line(): string {
    return this.partial.trim() || this.last;
  }
}
